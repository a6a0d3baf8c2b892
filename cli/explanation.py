"""One way to print an explanation (specs/rules-rs1.md §11) for people, shared by `pactlog explain`,
`pactlog simulate` and the demo, so that the demo shows what the command it names prints."""

from __future__ import annotations

from collections.abc import Callable


def plain_heading(day: int) -> str:
    return f"as of day {day}"


def explanation_lines(e: dict, heading: Callable[[int], str] = plain_heading, depth: int = 0) -> list[str]:
    """The explanation as indented lines, the explanations it rests on nested below it;
    ``heading`` words its day (the CLI adds the calendar date)."""
    pad = "  " * depth
    fact = " ".join(str(part) for part in e["fact"])
    lines = [f"{pad}{fact} {heading(e['as_of'])} = {value_text(e['value'])}",
             f"{pad}  rules {', '.join(e['rules'])} (ruleset version {e['ruleset_version']})"
             + (f"; {e['what']}" if e.get("what") else "")]
    if e["determining"]:
        lines.append(f"{pad}  determined by:")
        lines += [f"{pad}    entry {r['index']} (day {r['day']}, {r['rule']} v{r['version']}): {r['what']}"
                  for r in e["determining"]]
    if e["start_of_day"]:
        lines.append(f"{pad}  start-of-day effects:")
        lines += [f"{pad}    day {r['day']} ({r['rule']} v{r['version']}, created by entry {r['created_by']}): {r['what']}"
                  for r in e["start_of_day"]]
    if e["not_counted"]:
        lines.append(f"{pad}  considered, did not count:")
        lines += [f"{pad}    entry {r['index']}: {r['code']}" + (f"/{r['sub']}" if r.get("sub") else "")
                  + (f" ({r['detail']})" if r.get("detail") else "") for r in e["not_counted"]]
    for child in e["inputs"]:
        lines.append(f"{pad}  from:")
        lines += explanation_lines(child, heading, depth + 2)
    return lines


def value_text(value) -> str:
    """A derived value in a few words: yes/no, n/a, lists and flat records spelled out."""
    if isinstance(value, dict):
        return ", ".join(f"{k} {value_text(v)}" for k, v in value.items() if not isinstance(v, (dict, list))) \
            or str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return "n/a" if value is None else str(value)
