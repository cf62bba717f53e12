"""One Powertools Router per resource group; each group is one Lambda function in AWS."""
