"""AWS adapters (boto3). Clients are created lazily, never at import time."""
