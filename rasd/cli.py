"""The ``rasd`` command line.

Commands: ``schema`` (print the label schema).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from rasd import __version__, schema


def _cmd_schema(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps({
            "schema_version": schema.SCHEMA_VERSION,
            "entity_types": [t.__dict__ for t in schema.ENTITY_TYPES],
            "event_types": [t.__dict__ for t in schema.EVENT_TYPES],
            "sub_event_types": [t.__dict__ for t in schema.SUB_EVENT_TYPES],
        }, ensure_ascii=False, indent=2))
        return 0
    print(f"rasd label schema v{schema.SCHEMA_VERSION}\n\nentity types:")
    for t in schema.ENTITY_TYPES:
        print(f"  {t.id:<7} {t.name_ar:<8} {t.definition}")
    print("\nincident types (ACLED event type → sub-event types):")
    for ev in schema.EVENT_TYPES:
        print(f"  {ev.id} ({ev.name_ar})")
        for sub in schema.SUB_EVENT_TYPES:
            if sub.event_type == ev.id:
                print(f"    {sub.id:<36} {sub.name_ar}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rasd", description="Arabic news → incidents and entities.")
    parser.add_argument("--version", action="version", version=f"rasd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("schema", help="print the entity types and the ACLED incident taxonomy")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=_cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
