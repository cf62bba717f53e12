"""Figures for the email core: parse/classify time per message, and what language detection costs.

    .venv/bin/python bench/mail.py [--rounds 20] [--languages en,de,es,fr,it,nl,pt]

Parsing runs over the test messages in tests/mail/messages (generated, 50-odd messages from 85 bytes to
280 KB); each message is parsed `--rounds` times and the median is reported. Language detection is measured
in a fresh process per mode (so resident memory is that process's own): the time to import lingua, to build
the detector, the first detection (which loads the n-gram models) and the later ones, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))

from caseline.mail.classify import classify  # noqa: E402
from caseline.mail.parse import parse_message  # noqa: E402
from caseline.mail.quotes import split_reply  # noqa: E402

LANGUAGE_PROBE = r"""
import json, resource, sys, time
start = time.perf_counter()
import lingua
imported = time.perf_counter()
from caseline.mail.language import _detector, detect_language
languages, low = sys.argv[1].split(","), sys.argv[2] == "low"
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
detector = _detector(tuple(sorted(languages)), low)
built = time.perf_counter()
detect_language("Hallo, meine Bestellung ist noch nicht angekommen.", languages, low_accuracy=low)
first = time.perf_counter()
texts = ["Hello, my order has not arrived yet, can you check?", "Hola, mi pedido no ha llegado todavía.",
         "Bonjour, ma commande n'est pas arrivée.", "Hallo, mijn bestelling is nog niet aangekomen."] * 25
for text in texts:
    detect_language(text, languages, low_accuracy=low)
done = time.perf_counter()
print(json.dumps({"import_ms": (imported - start) * 1000, "build_ms": (built - imported) * 1000,
                  "first_ms": (first - built) * 1000, "each_ms": (done - first) * 1000 / len(texts),
                  "rss_before_mb": rss_before / 1024,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_parsing(rounds: int) -> None:
    files = sorted((ROOT / "tests" / "mail" / "messages").glob("*.eml"))
    rows = []
    for path in files:
        raw = path.read_bytes()
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            parsed = parse_message(raw)
            classify(parsed, ["help.example.com"])
            split_reply(parsed.text)
            times.append(time.perf_counter() - start)
        rows.append((path.name, len(raw), statistics.median(times) * 1000))
    total = sum(ms for _, _, ms in rows)
    print(f"parse + classify + split, median of {rounds} rounds, {len(rows)} messages")
    for name, size, ms in sorted(rows, key=lambda row: -row[2])[:6]:
        print(f"  {name:<36} {size:>8} bytes {ms:8.2f} ms")
    small = [ms for _, size, ms in rows if size < 5_000]
    print(f"  messages under 5 KB: median {statistics.median(small):.2f} ms, max {max(small):.2f} ms")
    print(f"  whole corpus: {total:.1f} ms ({len(rows) / total * 1000:.0f} messages/s)")


def bench_language(languages: str) -> None:
    print(f"language detection ({languages}), one fresh process per mode")
    for mode in ("high", "low"):
        result = subprocess.run(
            [sys.executable, "-c", LANGUAGE_PROBE, languages, mode],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONPATH": str(ROOT / "layers" / "core" / "python")},
        )
        f = json.loads(result.stdout)
        print(
            f"  {mode:>4} accuracy: import {f['import_ms']:.0f} ms, build {f['build_ms']:.0f} ms, "
            f"first detection {f['first_ms']:.0f} ms, then {f['each_ms']:.2f} ms each; "
            f"RSS {f['rss_before_mb']:.0f} MB before models, {f['rss_mb']:.0f} MB after"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--languages", default="en,de,es,fr,it,nl,pt")
    args = parser.parse_args()
    bench_parsing(args.rounds)
    bench_language(args.languages)


if __name__ == "__main__":
    main()
