"""Parses a Prometheus text exposition (a file named as argument, else stdin) with Prometheus's own Python parser
(prometheus_client.parser) and prints every sample as JSON: {"name{label=value,...}": value}.

Exits 1, naming the problem, when the text does not parse or a family has no type: the end-to-end tests read
/metrics through this script, so a format error fails them.
"""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    text = open(sys.argv[1], encoding="utf-8").read() if len(sys.argv) > 1 else sys.stdin.read()
    samples = {}
    try:
        for family in text_string_to_metric_families(text):
            if family.type == "unknown":
                print(f"metric {family.name} has no TYPE line", file=sys.stderr)
                return 1
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
    except Exception as error:  # the parser raises ValueError and others on malformed lines
        print(f"not a valid Prometheus exposition: {error}", file=sys.stderr)
        return 1
    json.dump(samples, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
