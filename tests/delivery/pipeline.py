"""An offline model of how GitLab turns .gitlab-ci.yml into a pipeline, for the subset this project uses.

- YAML with `!reference [key, key…]` tags, resolved like GitLab does (a referenced list inside a list is
  spliced in, as for `rules` and `script`);
- `extends` (hashes merged deeply, everything else replaced; the child wins);
- `workflow:rules` and job `rules` with `if`, `changes`, `when` and `variables`: the first matching rule
  decides, no matching rule means the job is not in the pipeline;
- `if:` expressions: `$VAR`, "strings", 'strings', /regex/ (RE2-compatible subset via Python's re), null,
  `==`, `!=`, `=~`, `!~`, `&&` (binds tighter), `||`, parentheses. As in GitLab, an unset variable is null and
  a bare `$VAR` is true when set and not empty.
- variable expansion of `$VAR` and `${VAR}` in job variables.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KEYWORDS_NOT_JOBS = {
    "default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script",
    "after_script", "spec",
}


class Reference(list):
    """The path of a `!reference` tag."""


class PipelineLoader(yaml.SafeLoader):
    pass


def _construct_reference(loader: yaml.SafeLoader, node: yaml.Node) -> Reference:
    return Reference(loader.construct_sequence(node))


PipelineLoader.add_constructor("!reference", _construct_reference)


def load(path: Path) -> dict[str, Any]:
    """The pipeline file with every `!reference` resolved and every job's `extends` applied."""
    raw = yaml.load(path.read_text(), Loader=PipelineLoader)
    resolved = _resolve(raw, raw, depth=0)
    return {name: (_extend(name, resolved) if _is_job_like(name, value) else value)
            for name, value in resolved.items()}


def _lookup(document: dict, path: list[str]) -> Any:
    node: Any = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise KeyError(f"!reference {path}: {key!r} not found")
        node = node[key]
    return node


def _resolve(node: Any, document: dict, depth: int) -> Any:
    if depth > 10:
        raise ValueError("!reference nested deeper than GitLab's 10 levels")
    if isinstance(node, Reference):
        return _resolve(_lookup(document, list(node)), document, depth + 1)
    if isinstance(node, dict):
        return {key: _resolve(value, document, depth) for key, value in node.items()}
    if isinstance(node, list):
        out: list[Any] = []
        for item in node:
            value = _resolve(item, document, depth)
            # GitLab flattens a referenced list into the list that references it.
            if isinstance(item, Reference) and isinstance(value, list):
                out.extend(value)
            else:
                out.append(value)
        return out
    return node


def _is_job_like(name: str, value: Any) -> bool:
    return isinstance(value, dict) and name not in KEYWORDS_NOT_JOBS


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _extend(name: str, document: dict, seen: tuple[str, ...] = ()) -> dict:
    job = document[name]
    parents = job.get("extends", [])
    parents = [parents] if isinstance(parents, str) else parents
    merged: dict = {}
    for parent in parents:
        if parent in seen:
            raise ValueError(f"extends loop: {' → '.join(seen + (parent,))}")
        merged = _deep_merge(merged, _extend(parent, document, seen + (name,)))
    merged = _deep_merge(merged, {k: v for k, v in job.items() if k != "extends"})
    return merged


def jobs(pipeline: dict[str, Any]) -> dict[str, dict]:
    """The jobs: top-level hashes that are not keywords nor hidden (dot-prefixed)."""
    return {name: value for name, value in pipeline.items()
            if _is_job_like(name, value) and not name.startswith(".")}


# MARK: - if: expressions

TOKEN = re.compile(r"""
    \s*(?:
      (?P<var>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<regex>/(?:[^/\\]|\\.)*/[a-z]*)
    | (?P<op>==|!=|=~|!~|&&|\|\||\(|\))
    | (?P<null>null)
    )""", re.VERBOSE)


def _tokens(expression: str) -> list[tuple[str, str]]:
    position, out = 0, []
    expression = expression.strip()
    while position < len(expression):
        match = TOKEN.match(expression, position)
        if not match or match.end() == position:
            raise ValueError(f"cannot parse {expression!r} at {expression[position:]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    variables: dict[str, str]
    position: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse_or(self) -> bool:
        value = self.parse_and()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.parse_and()
            value = value or right
        return value

    def parse_and(self) -> bool:
        value = self.parse_comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.parse_comparison()
            value = value and right
        return value

    def parse_comparison(self) -> bool:
        if self.peek() == ("op", "("):
            self.take()
            value = self.parse_or()
            if self.take() != ("op", ")"):
                raise ValueError("missing )")
            return value
        left = self.operand()
        token = self.peek()
        if token is None or token[0] != "op" or token[1] not in ("==", "!=", "=~", "!~"):
            # A bare operand: true when set and not empty.
            return left not in (None, "")
        operator = self.take()[1]
        kind, text = self.take()
        if operator in ("=~", "!~"):
            if kind != "regex":
                raise ValueError(f"{operator} needs a /regex/, got {text!r}")
            pattern, flags = text[1:text.rindex("/")], text[text.rindex("/") + 1:]
            matched = left is not None and re.search(pattern, left, re.I if "i" in flags else 0) is not None
            return matched if operator == "=~" else not matched
        self.position -= 1
        right = self.operand()
        return (left == right) if operator == "==" else (left != right)

    def operand(self) -> str | None:
        kind, text = self.take()
        if kind == "var":
            return self.variables.get(text.lstrip("$").strip("{}"))
        if kind == "str":
            return text[1:-1]
        if kind == "null":
            return None
        raise ValueError(f"unexpected {text!r}")


def evaluate(expression: str, variables: dict[str, str]) -> bool:
    parser = _Parser(_tokens(expression), variables)
    value = parser.parse_or()
    if parser.peek() is not None:
        raise ValueError(f"trailing tokens in {expression!r}")
    return value


def expand(value: str, variables: dict[str, str]) -> str:
    """`$VAR` and `${VAR}` expanded; unset variables become empty, like the runner does."""
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: variables.get(m.group(1), ""), str(value))


# MARK: - rules and pipelines


def _glob_matches(pattern: str, path: str) -> bool:
    # GitLab's `changes` globs: `**` crosses directories.
    regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
    return re.fullmatch(regex, path) is not None or fnmatch.fnmatch(path, pattern)


@dataclass
class Scenario:
    """What GitLab knows when it creates a pipeline: predefined and pipeline variables, changed files."""

    name: str
    variables: dict[str, str]
    # None: `changes` is always true (tag pipelines, new branches, pipelines run from the UI or API).
    changed_files: list[str] | None = None


@dataclass
class RuleOutcome:
    when: str
    variables: dict[str, str] = field(default_factory=dict)


def evaluate_rules(rules: list[dict] | None, scenario: Scenario) -> RuleOutcome | None:
    """The outcome of the first matching rule; None when no rule matches (or one says never)."""
    if rules is None:
        return RuleOutcome("on_success")
    for rule in rules:
        if "if" in rule and not evaluate(rule["if"], scenario.variables):
            continue
        if "changes" in rule and scenario.changed_files is not None:
            patterns = rule["changes"]["paths"] if isinstance(rule["changes"], dict) else rule["changes"]
            if not any(_glob_matches(p, f) for p in patterns for f in scenario.changed_files):
                continue
        when = rule.get("when", "on_success")
        if when == "never":
            return None
        return RuleOutcome(when, {k: str(v) for k, v in rule.get("variables", {}).items()})
    return None


@dataclass
class PlannedJob:
    name: str
    stage: str
    when: str
    variables: dict[str, str]


def plan(pipeline: dict[str, Any], scenario: Scenario) -> dict[str, PlannedJob] | None:
    """The jobs GitLab would create for `scenario`, or None when `workflow:rules` create no pipeline."""
    globals_ = {k: (v["value"] if isinstance(v, dict) else str(v))
                for k, v in pipeline.get("variables", {}).items()}
    # Rules see the top-level YAML variables under the predefined and pipeline ones.
    scenario = Scenario(scenario.name, {**globals_, **scenario.variables}, scenario.changed_files)
    workflow = pipeline.get("workflow", {}).get("rules")
    if workflow is not None and evaluate_rules(workflow, scenario) is None:
        return None
    planned: dict[str, PlannedJob] = {}
    for name, job in jobs(pipeline).items():
        outcome = evaluate_rules(job.get("rules"), scenario)
        if outcome is None:
            continue
        # Precedence (low → high): global YAML, job YAML, rules variables, pipeline/predefined variables.
        variables: dict[str, str] = {**globals_, **{k: (v["value"] if isinstance(v, dict) else str(v))
                                                    for k, v in job.get("variables", {}).items()},
                                     **outcome.variables, **scenario.variables}
        resolved = {k: expand(v, variables) for k, v in variables.items()}
        planned[name] = PlannedJob(name, job.get("stage", "test"), outcome.when, resolved)
    return planned
