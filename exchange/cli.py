"""The ``voices`` command: serve, migrate, load data, demo data, structures and tokens."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from exchange.config import Settings, load_settings
from exchange.db import get_engine, session_scope
from exchange.structures.store import StructureError, load_registry


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``voices`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    settings = load_settings()
    try:
        return args.handler(args, settings)
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voices", description="Voices Exchange: SDMX exchange for citizen data")
    sub = parser.add_subparsers(metavar="COMMAND")

    serve = sub.add_parser("serve", help="migrate the database, load the bundled structures and run the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--demo", action="store_true", help="load the demo dataset first (skipped if already loaded)")
    serve.set_defaults(handler=_serve)

    migrate = sub.add_parser("migrate", help="create or upgrade the database and load the bundled structures")
    migrate.set_defaults(handler=_migrate)

    for name, text in (
        ("load", "validate a data file and store it as a new release (published unless --draft)"),
        ("upload", "the same as load: an SDMX message, or a CSV/XLSX table with --spec"),
    ):
        _add_load(sub.add_parser(name, help=text))

    mapping = sub.add_parser("mapping", help="mapping specs: suggest a draft, print the schema, import sdg-build maps")
    mapping_sub = mapping.add_subparsers(metavar="ACTION", required=True)
    suggest = mapping_sub.add_parser("suggest", help="write a draft mapping spec for a sample CSV/XLSX file")
    suggest.add_argument("file", type=Path)
    suggest.add_argument("--dataflow", default="LNOB:DF_LNOB(1.0)")
    suggest.add_argument("--output", "-o", type=Path, help="write the YAML here (default: standard output)")
    suggest.set_defaults(handler=_mapping_suggest)
    mapping_sub.add_parser("schema", help="print the mapping spec JSON Schema").set_defaults(handler=_mapping_schema)
    importer = mapping_sub.add_parser("import-sdg-build", help="convert sdg-build column and code map CSVs")
    importer.add_argument("column_map", type=Path)
    importer.add_argument("code_map", type=Path)
    importer.add_argument("--dataflow", required=True)
    importer.add_argument("--constant", action="append", default=[], metavar="COMPONENT=CODE")
    importer.add_argument("--output", "-o", type=Path)
    importer.set_defaults(handler=_mapping_import)

    demo = sub.add_parser("demo", help="load the demo dataset (several coalitions, ≥ 50,000 observations)")
    demo.add_argument("--seed", type=int, default=2030)
    demo.set_defaults(handler=_demo)

    structures = sub.add_parser("structures", help="list or load SDMX structure artefacts")
    structures_sub = structures.add_subparsers(metavar="ACTION", required=True)
    listing = structures_sub.add_parser("list", help="list stored artefacts")
    listing.add_argument("--type", help="only this artefact type, e.g. codelist")
    listing.set_defaults(handler=_structures_list)
    loading = structures_sub.add_parser("load", help="load an SDMX structure message (SDMX-ML 2.1/3.0, SDMX-JSON 2.0)")
    loading.add_argument("file", type=Path)
    loading.set_defaults(handler=_structures_load)

    tokens = sub.add_parser("tokens", help="issue, list and revoke API tokens")
    tokens_sub = tokens.add_subparsers(metavar="ACTION", required=True)
    create = tokens_sub.add_parser("create", help="issue a token (printed once; only its hash is stored)")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=["admin", "coalition", "nso"], required=True)
    create.add_argument("--provider", help="data provider the token may write for (coalition tokens)")
    create.set_defaults(handler=_tokens_create)
    tokens_sub.add_parser("list", help="list tokens (never their secrets)").set_defaults(handler=_tokens_list)
    revoke = tokens_sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", type=int)
    revoke.set_defaults(handler=_tokens_revoke)
    return parser


def _add_load(load: argparse.ArgumentParser) -> None:
    load.add_argument("file", type=Path)
    load.add_argument("--dataflow", help="e.g. LNOB:DF_LNOB(1.0), LNOB,DF_LNOB,1.0 or DF_LNOB (default: the spec's)")
    load.add_argument("--provider", required=True, help="data provider, e.g. KEN or LNOB:KEN")
    load.add_argument("--spec", type=Path, help="mapping spec (YAML) for a CSV/XLSX table")
    load.add_argument("--action", default="replace", choices=["replace", "merge", "delete"])
    load.add_argument("--draft", action="store_true", help="keep the release as an unpublished draft")
    load.add_argument("--dry-run", action="store_true", help="validate only; store nothing")
    load.add_argument("--report", type=Path, help="write the validation report (JSON) to this file")
    load.set_defaults(handler=_load)


def prepare_database(settings: Settings) -> None:
    """Apply migrations and load the bundled structures (both idempotent)."""
    from codelists.loader import load_bundled
    from exchange.migrate import upgrade

    upgrade(settings.db_url)
    with session_scope(get_engine(settings.db_url)) as session:
        load_bundled(session)


def _migrate(_args: argparse.Namespace, settings: Settings) -> int:
    prepare_database(settings)
    print(f"Database ready at {_safe_url(settings.db_url)}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import subprocess

    import uvicorn

    # Migrations, bundled structures and demo data run in a child process, so the server process never
    # imports the structure readers' libraries (sdmx1, pysdmx, pandas: about 140 MB).
    steps = [["migrate"]] + ([["demo"]] if args.demo else [])
    for step in steps:
        done = subprocess.run([sys.executable, "-m", "exchange.cli", *step], check=False)
        if done.returncode != 0:
            return done.returncode
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )
    return 0


def _load(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.ingest import LoadRefused
    from exchange.refs import RefError, parse_flow_ref, parse_provider_ref
    from exchange.uploads import UploadConflict, UploadRequest, process_upload

    engine = get_engine(settings.db_url)
    with session_scope(engine) as session:
        registry = load_registry(session)
    try:
        spec_text = args.spec.read_text(encoding="utf-8") if args.spec else None
        flow_text = args.dataflow or (_spec_dataflow(spec_text) if spec_text else None)
        if not flow_text:
            raise RefError("Give --dataflow (or a --spec that names one)")
        flow = parse_flow_ref(flow_text, registry)
        provider = parse_provider_ref(args.provider, registry)
        if args.file.stat().st_size > settings.max_upload_bytes:
            raise LoadRefused(f"{args.file} is larger than the limit of {settings.max_upload_bytes:,} bytes")
        request = UploadRequest(
            content=args.file.read_bytes(),
            filename=args.file.name,
            dataflow=flow,
            provider=provider,
            action=args.action,
            publish=not args.draft,
            dry_run=args.dry_run,
            spec_text=spec_text,
            actor="cli",
        )
        outcome = process_upload(engine, registry, settings.data_dir, request)
    except (RefError, OSError, UploadConflict, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except LoadRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    if args.report:
        args.report.write_text(json.dumps(outcome.report.to_dict(), indent=2, ensure_ascii=False))
    if outcome.status == "refused":
        print(f"refused: The data do not conform to {flow}: {outcome.report.error_count} error(s).", file=sys.stderr)
        print(outcome.report.summary(), file=sys.stderr)
        return 1
    if outcome.status == "duplicate":
        print(outcome.message)
        return 0
    if outcome.status == "validated":
        print(
            f"Valid: {outcome.report.observations} observations, {outcome.report.warning_count} warning(s); "
            "nothing stored (dry run)"
        )
        return 0
    print(
        f"Stored release {outcome.release_number} ({outcome.release_status}) of {flow} for provider "
        f"{provider[0]}:{provider[1]}: {outcome.report.observations} observations in "
        f"{outcome.report.series} series, {outcome.changed_observations} changed"
    )
    return 0


def _spec_dataflow(spec_text: str) -> str:
    from mappings.spec import load_spec

    return load_spec(spec_text).dataflow


def _mapping_suggest(args: argparse.Namespace, settings: Settings) -> int:
    from mappings.readers import read_table
    from mappings.spec import dump_spec
    from mappings.suggest import draft_spec
    from mappings.table import TableError

    with session_scope(get_engine(settings.db_url)) as session:
        registry = load_registry(session)
    try:
        table = read_table(args.file.read_bytes(), args.file.name)
    except (TableError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = dump_spec(draft_spec(table, registry, args.dataflow))
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"Draft spec written to {args.output}; fill in every '?' before uploading")
    else:
        print(text)
    return 0


def _mapping_schema(_args: argparse.Namespace, _settings: Settings) -> int:
    from mappings.spec import spec_json_schema

    print(json.dumps(spec_json_schema(), indent=2))
    return 0


def _mapping_import(args: argparse.Namespace, _settings: Settings) -> int:
    from mappings.sdg_build import import_sdg_build
    from mappings.spec import SpecError, dump_spec

    constants = dict(c.split("=", 1) for c in args.constant if "=" in c)
    try:
        spec = import_sdg_build(args.column_map.read_bytes(), args.code_map.read_bytes(), args.dataflow, constants)
    except (SpecError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = dump_spec(spec)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.demo import load_demo

    prepare_database(settings)
    print(load_demo(get_engine(settings.db_url), seed=args.seed))
    return 0


def _structures_list(args: argparse.Namespace, settings: Settings) -> int:
    with session_scope(get_engine(settings.db_url)) as session:
        registry = load_registry(session)
    for artefact in sorted(registry.all(), key=lambda a: (a.type, a.agency, a.id, a.version)):
        if args.type and artefact.type != args.type:
            continue
        final = "final" if artefact.is_final else "draft"
        print(f"{artefact.type:20} {artefact.ref!s:45} {final:6} {artefact.name.get('en', '')}")
    return 0


def _structures_load(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.formats.records import MessageError
    from exchange.structures.readers import read_structures
    from exchange.structures.store import save_artefacts

    try:
        artefacts = read_structures(args.file.read_bytes())
        with session_scope(get_engine(settings.db_url)) as session:
            result = save_artefacts(session, artefacts)
            from exchange.store.schema import AuditEntry

            session.add(
                AuditEntry(
                    actor="cli",
                    action="load-structures",
                    target=args.file.name,
                    detail=json.dumps(
                        {"created": [str(r) for r in result.created], "replaced": [str(r) for r in result.replaced]}
                    ),
                )
            )
    except (MessageError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except StructureError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"{args.file}: {result.summary()}")
    for ref in result.created + result.replaced:
        print(f"  {ref.type} {ref}")
    return 0


def _tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.auth import TokenError, create_token

    engine = get_engine(settings.db_url)
    try:
        token_id, secret = create_token(engine, name=args.name, role=args.role, provider=args.provider)
    except TokenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Token {token_id} ({args.role}) created. Store it now; it is not shown again:\n{secret}")
    return 0


def _tokens_list(_args: argparse.Namespace, settings: Settings) -> int:
    from exchange.auth import list_tokens

    for token in list_tokens(get_engine(settings.db_url)):
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
        provider = f"{token.provider_agency}:{token.provider_id}" if token.provider_id else "-"
        print(f"{token.id:4} {token.role:10} {provider:15} {state:20} {token.name}")
    return 0


def _tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from exchange.auth import TokenError, revoke_token

    try:
        revoke_token(get_engine(settings.db_url), args.token_id)
    except TokenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Token {args.token_id} revoked")
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
