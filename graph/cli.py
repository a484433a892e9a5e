"""The `harborgraph` command: serve, migrate, seed, token, schema, ingest, manifest."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import asyncpg

from graph.logs import configure_logging
from graph.settings import Settings, SettingsError, load_settings
from resolvers.migrate import MigrationError


def _anchor(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date (YYYY-MM-DD): {value!r}") from None


def _scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 < scale <= 100:
        raise argparse.ArgumentTypeError("must be above 0 and at most 100")
    return scale


def _ttl(value: str) -> int:
    if not value.isdigit() or not 60 <= int(value) <= 86_400:
        raise argparse.ArgumentTypeError("must be whole seconds from 60 to 86400")
    return int(value)


def _workers(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 64")
    return int(value)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="harborgraph", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, seed the demo if empty, and serve the API")
    serve.add_argument("--print-tokens", action="store_true", help="print demo partner tokens")
    serve.add_argument(
        "--workers",
        type=_workers,
        default=None,
        help="server processes (default: one per core); migrations and the demo run once",
    )
    commands.add_parser("migrate", help="apply pending schema migrations")
    seed = commands.add_parser("seed", help="load deterministic demo data")
    seed.add_argument("--scale", type=_scale, default=1.0)
    seed.add_argument("--seed", type=int, default=42)
    seed.add_argument("--anchor", type=_anchor, default=None, help="ISO date; default today (UTC)")
    token = commands.add_parser("token", help="mint a development access token")
    token.add_argument("--org", required=True, help="organization code, e.g. MSCU")
    token.add_argument("--scope", default="", help='space-delimited scopes, e.g. "cargo:read"')
    token.add_argument("--ttl", type=_ttl, default=3600, help="lifetime in seconds")
    commands.add_parser("schema", help="print the GraphQL SDL")
    ingest = commands.add_parser(
        "ingest", help="publish DCSA T&T events from a JSON array or NDJSON file"
    )
    ingest.add_argument("source", help="the file, or - for standard input")
    ingest.add_argument(
        "--org", required=True, help="the publishing organization's code, e.g. MSCU"
    )
    manifest = commands.add_parser(
        "manifest", help="print the Apollo persisted query manifest of .graphql files"
    )
    manifest.add_argument(
        "paths", nargs="+", type=Path, help="files, or folders of *.graphql files"
    )
    return root


def run_migrate(settings: Settings) -> int:
    from graph.runtime import databases, migrate_all

    with databases(settings) as dbs:
        applied = asyncio.run(migrate_all(dbs.dsns))
    print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {m}" for m in applied))
    return 0


def run_seed(settings: Settings, args: argparse.Namespace) -> int:
    from graph.runtime import databases, migrate_all, seed_all, today
    from resolvers.seed import AlreadySeededError

    anchor = args.anchor or today()
    with databases(settings) as dbs:
        asyncio.run(migrate_all(dbs.dsns))
        try:
            report = asyncio.run(
                seed_all(
                    dbs.dsns,
                    settings,
                    scale=args.scale,
                    seed_value=args.seed,
                    anchor=anchor,
                    only_if_empty=False,
                )
            )
        except AlreadySeededError:
            print("harborgraph: the database already holds data; seed a fresh one", file=sys.stderr)
            return 1
    assert report is not None
    print(f"seeded scale {args.scale} seed {args.seed} anchor {anchor} in {report.seconds:.1f} s")
    for table, count in report.counts.items():
        print(f"  {table:<32} {count:>10,}")
    print(f"  {'total':<32} {sum(report.counts.values()):>10,}")
    return 0


class CommandError(RuntimeError):
    """A command cannot do what was asked; the message says why."""


def run_token(settings: Settings, args: argparse.Namespace) -> int:
    from graph.demo import known_organization, mint_dev_token
    from graph.runtime import databases

    if not settings.development or settings.jwt.jwks_url or settings.jwt.public_key_file:
        raise CommandError("tokens are minted here only for the generated development key")
    with databases(settings) as dbs:
        if not asyncio.run(known_organization(settings, dbs.dsns, args.org)):
            raise CommandError(
                f"organization {args.org!r} is not known (see community.organization)"
            )
    print(mint_dev_token(settings, org=args.org, scopes=args.scope.split(), ttl=args.ttl))
    return 0


def run_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from graph.ingest import IngestError, ingest, read_items
    from graph.runtime import databases, migrate_all

    try:
        if args.source == "-":
            items = read_items(sys.stdin)
        else:
            with open(args.source, encoding="utf-8") as stream:
                items = read_items(stream)
    except OSError as error:
        raise CommandError(f"cannot read {args.source}: {error.strerror}") from None
    except (IngestError, UnicodeDecodeError) as error:
        raise CommandError(f"{args.source}: {error}") from None
    try:
        with databases(settings) as dbs:
            asyncio.run(migrate_all(dbs.dsns))
            report = asyncio.run(ingest(settings, dbs.dsns, args.org, items))
    except IngestError as error:
        raise CommandError(str(error)) from None
    print("\n".join([*report.lines, report.summary()]))
    return 0 if report.batches_not_stored == 0 else 1


def run_manifest(args: argparse.Namespace) -> int:
    from graph.documents import ManifestError, build_manifest, manifest_json

    try:
        sys.stdout.write(manifest_json(build_manifest(args.paths)))
    except ManifestError as error:
        raise CommandError(str(error)) from None
    return 0


def run_schema(_settings: Settings) -> int:
    from schema import print_sdl

    sys.stdout.write(print_sdl())
    return 0


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    from graph.serve import serve

    workers = args.workers or os.cpu_count() or 1
    return serve(settings, print_tokens=args.print_tokens, workers=workers)


class Stopped(SystemExit):
    """SIGTERM or SIGINT: the command ends as if it had finished, so that what it started
    (the embedded PostgreSQL) is stopped on the way out. A SystemExit, so that asyncio lets it
    through rather than logging it as a callback's error."""


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signum)


def stop_on_signals() -> None:
    """Kubernetes, systemd and process managers send SIGTERM to this process alone; uvicorn
    handles it while it serves and raises it again once it has shut down."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    stop_on_signals()
    configure_logging()
    try:
        return run(load_settings(), args)
    except Stopped:
        return 0
    except SettingsError as error:
        # Also raised after loading, e.g. a key file that cannot be read.
        print(f"harborgraph: {error}", file=sys.stderr)
        return 2
    except (MigrationError, CommandError) as error:
        print(f"harborgraph: {error}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError) as error:
        print(f"harborgraph: the database cannot be used: {error}", file=sys.stderr)
        return 1


def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "serve":
        return run_serve(settings, args)
    if args.command == "migrate":
        return run_migrate(settings)
    if args.command == "seed":
        return run_seed(settings, args)
    if args.command == "token":
        return run_token(settings, args)
    if args.command == "ingest":
        return run_ingest(settings, args)
    if args.command == "manifest":
        return run_manifest(args)
    return run_schema(settings)


if __name__ == "__main__":
    raise SystemExit(main())
