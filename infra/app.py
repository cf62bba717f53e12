#!/usr/bin/env python3
"""CDK entry point: `python infra/app.py` (what `make synth` runs) or `cdk synth` through cdk.json.

The cloud assembly goes to $CDK_OUTDIR (the CDK CLI sets it; `make synth` sets it to `cdk.out`).
A failing cdk-nag check fails synth, with the report in `<outdir>/validation-report.json`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "infra"), str(ROOT / "layers" / "core" / "python")]
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from caseline_cdk.app import build_app, new_app  # noqa: E402


def main() -> None:
    app = new_app()
    build_app(app)
    app.synth()


if __name__ == "__main__":
    main()
