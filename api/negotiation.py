"""HTTP content negotiation for SDMX media types (Accept with q-values, or a ``format=`` parameter)."""

from __future__ import annotations

from dataclasses import dataclass, field

from api.errors import SdmxError


@dataclass(frozen=True)
class MediaOption:
    """One format the server can produce for a resource."""

    key: str
    media_type: str
    version: str | None = None
    format_names: tuple[str, ...] = field(default=())

    @property
    def content_type(self) -> str:
        base = f"{self.media_type}; version={self.version}" if self.version else self.media_type
        return f"{base}; charset=utf-8" if self.media_type.endswith(("xml", "json", "csv")) else base


@dataclass(frozen=True)
class _Accepted:
    type: str
    subtype: str
    version: str | None
    q: float
    order: int
    params: tuple[tuple[str, str], ...] = ()


def parse_accept(header: str) -> list[_Accepted]:
    """Accept header entries, best first (q-value, then specificity, then order)."""
    entries: list[_Accepted] = []
    for order, part in enumerate(p for p in header.split(",") if p.strip()):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media:
            continue
        main, sub = media.split("/", 1)
        q, version = 1.0, None
        params: list[tuple[str, str]] = []
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif name == "version":
                version = value
            elif name:
                params.append((name, value))
        if q > 0:
            entries.append(_Accepted(main, sub, version, q, order, tuple(params)))
    specificity = {True: 0, False: 1}
    return sorted(entries, key=lambda e: (-e.q, specificity[e.type == "*"] + specificity[e.subtype == "*"], e.order))


def _version_matches(requested: str | None, offered: str | None) -> bool:
    if requested is None or offered is None:
        return True
    return offered == requested or offered.startswith(requested + ".") or requested.startswith(offered + ".")


def negotiate(
    accept: str | None,
    format_param: str | None,
    options: list[MediaOption],
    default: MediaOption,
    generic: dict[str, MediaOption],
) -> MediaOption:
    """Pick the response format; raise a 406 SdmxError when nothing acceptable can be produced.

    ``generic`` maps plain media types (``application/xml``, ``application/json``, ``text/csv``…) to
    the option served for them.
    """
    return negotiate_with_params(accept, format_param, options, default, generic)[0]


def negotiate_with_params(
    accept: str | None,
    format_param: str | None,
    options: list[MediaOption],
    default: MediaOption,
    generic: dict[str, MediaOption],
) -> tuple[MediaOption, dict[str, str]]:
    """Like :func:`negotiate`, also returning the chosen media range's parameters (e.g. ``labels``)."""
    if format_param:
        wanted = format_param.strip().lower()
        for option in options:
            if wanted in option.format_names:
                return option, {}
        names = sorted({n for o in options for n in o.format_names})
        raise SdmxError(406, f"Unknown format '{format_param}'. Use one of: {', '.join(names)}")
    if not accept or not accept.strip():
        return default, {}
    for entry in parse_accept(accept):
        media = f"{entry.type}/{entry.subtype}"
        params = dict(entry.params)
        if media in ("*/*", f"{entry.type}/*") and (entry.type == "*" or default.media_type.startswith(entry.type)):
            return default, {}
        for option in options:
            if option.media_type == media and _version_matches(entry.version, option.version):
                return option, params
        if media in generic:
            return generic[media], params
    offered = ", ".join(o.content_type.split("; charset")[0] for o in options)
    raise SdmxError(406, f"None of the requested media types can be produced. Available: {offered}")
