"""Validated configuration and taxonomy (plumbing).

Every section rejects unknown keys (``extra="forbid"``) so a typo in YAML is an error naming the key, never a
silently ignored setting; backend names are checked against ``backends.BACKENDS`` here, at load time, so a wrong
name fails before any file is read. Defaults live in ``configs/default.yaml`` (shipped as ``insight._configs``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import backends
from .errors import ConfigError

DATA_DIR_ENV = "INSIGHT_DATA_DIR"
STORE_URL_ENV = "INSIGHT_STORE_URL"
HOME_ENV = "INSIGHT_HOME"
WORKSPACE_ENV = "INSIGHT_WORKSPACE"
DEFAULT_WORKSPACE = "default"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _backend(role: backends.Role):
    """A field validator: the value must be a registered backend name of ``role``."""

    def check(value: str) -> str:
        if value not in backends.BACKENDS[role]:
            raise ValueError(f"unknown {role} {value!r}; valid names: {', '.join(backends.names(role))}")
        return value

    return field_validator("backend")(classmethod(lambda cls, v: check(v)))


class IngestConfig(_Section):
    # canonical column -> column name in the source file (a list for text joins columns, e.g. title + body);
    # unmapped canonical columns keep their own name
    columns: dict[str, str | list[str]] = Field(default_factory=dict)
    profile: str | None = None  # a packaged mapping profile: generic, zendesk, shopify_reviews, app_store, survey
    defaults: dict[str, str] = Field(default_factory=dict)  # constant values for absent columns, e.g. channel
    rating_range: tuple[float, float] = (1, 5)
    timestamp_format: str | None = None
    chunk_size: int = Field(50_000, ge=100)


class PIIConfig(_Section):
    enabled: bool = True
    order_number_patterns: list[str] = Field(default_factory=list)
    names: bool = False  # people's names and places via spaCy NER: slower, off by default
    keep_raw: bool = False  # store the unredacted text too (only where your data policy allows it)


class CleanConfig(_Section):
    min_chars: int = 3
    max_chars: int = Field(5000, ge=50)  # longer texts are truncated (and marked) before embedding
    pii: PIIConfig = Field(default_factory=PIIConfig)
    # identical or near-identical text within these columns is one voice; [] dedupes on the text alone
    dedupe_on: list[str] = Field(default_factory=lambda: ["customer_id"])
    near_duplicate_threshold: float | None = Field(0.95, ge=0.5, le=1.0)  # cosine; null switches it off
    detect_languages: list[str] = Field(default_factory=lambda: ["en", "es", "de", "fr", "pt", "it", "nl"])
    languages: list[str] = Field(default_factory=lambda: ["en"])  # what the embedding model reads well
    other_languages: Literal["analyse", "set_aside"] = "analyse"  # set_aside: non-actionable, counted, shown
    # text with bytes that could not be decoded (U+FFFD): mark it (detail "undecodable_bytes", run health counts
    # it) or quarantine it; mojibake that can be repaired is repaired and marked "encoding_repaired" either way
    bad_encoding: Literal["mark", "quarantine"] = "mark"


PRECISIONS = ("auto", "fp32", "bf16")


class EmbedConfig(_Section):
    backend: str = "sentence-transformers"
    batch_size: int = Field(256, ge=1)  # at most this many texts in one batch
    batch_tokens: int = Field(2048, ge=16)  # and at most this many (padded) tokens
    cache: bool = True
    dim: int = 384  # only used by the hashing backend
    # auto: bf16 where the hardware multiplies it natively (AVX512-BF16, AMX, recent GPUs) and measurably faster
    # (about twice on an AMD Zen 4; slower on some Intel Xeons; downstream figures within noise:
    # docs/evaluation.md, "Speed"), else fp32
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    threads: int | None = None  # torch threads for embedding (None: torch's default, one per core)
    onnx_dir: str | None = None  # backend onnx: where its exported graph is kept (None: <home>/cache/onnx)
    processes: int = Field(1, ge=1)  # sentence-transformers: worker processes, each with cores / processes threads

    _known = _backend("embedder")


class ThemesConfig(_Section):
    backend: str = "hdbscan"
    mode: Literal["discover", "assign"] = "discover"  # assign: new items join registered themes, no reclustering
    # umap: UMAP's graph laid out on two threads (``themes.layout_sgd``); umap-learn: its own one-thread layout
    reducer: Literal["umap", "umap-learn", "pca"] = "umap"
    n_neighbors: int = 15
    partition: Literal["ward", "hdbscan"] = "ward"  # how HDBSCAN's number of themes becomes a partition
    # which HDBSCAN: the hdbscan package (Boruvka KD-tree, the faster here) or scikit-learn's (earlier runs used it)
    hdbscan: Literal["hdbscan", "scikit-learn"] = "hdbscan"
    n_components: int = 10
    umap_epochs: int = Field(100, ge=10)  # UMAP's optimisation rounds on the discovery sample
    min_cluster_size: int | None = None  # None: scaled to the number of items
    min_samples: int | None = None
    max_discovery_sample: int = 4000
    assign_threshold: float = 0.45  # cosine to a theme centroid for a soft assignment of an outlier
    # themes with the same root cause whose centred centroids are at least this close are one theme (None: never)
    merge_threshold: float | None = Field(0.8, gt=0, le=1)
    n_keywords: int = 8
    n_examples: int = 5
    key_phrases: bool = True
    # a word fewer distinct customers used never names a theme (labels, keywords, key phrases): one customer's
    # words cannot become a label, and nothing of theirs stays in names once they are erased
    min_voices: int = Field(3, ge=1)

    _known = _backend("clusterer")


class TagConfig(_Section):
    backend: str = "prototype"  # prototype (zero-shot from the taxonomy) or model (a trained, saved tagger)
    model_path: str | None = None  # with backend: model, e.g. models/tagger/shop-v1
    taxonomy: str = "default"
    keyword_weight: float = 0.35
    temperature: float = 0.05  # zero-shot: softmax temperature over prototype cosines (decides the ranking)
    # zero-shot: probabilities sharpened (<1) or softened (>1) after keywords, so a 0.8 is right about 80 % of the
    # time; it never changes which cause wins
    calibration_temperature: float = Field(0.6, gt=0)
    abstain_below: float = 0.6  # zero-shot: below this top probability, send to review
    min_margin: float = 0.1  # zero-shot: top-two closer than this, send to review
    # zero-shot: how much of a remark's vector comes from its complaint clauses when it also praises (0: off)
    focus_weight: float = Field(0.0, ge=0, le=1)
    # zero-shot: a remark whose best cause fits below this cosine goes to the taxonomy's out-of-taxonomy cause
    # ("nothing fits": off-topic messages); None: off. A cosine is on one encoder's scale: "auto" is
    # ``OUT_OF_TAXONOMY_BELOW`` with the packaged encoder and off with any other (``Config``). Remarks in a language
    # the encoder reads poorly are never judged by it.
    out_of_taxonomy_below: Annotated[float, Field(ge=-1, le=1)] | Literal["auto"] | None = "auto"
    # zero-shot: each remark also leans on the causes of its k nearest remarks in the same run (0: off, the default:
    # with it a remark's tag depends on what else is in the run, and the gain measured was 0.2-0.7 points)
    batch_neighbours: int = Field(0, ge=0)
    batch_weight: float = Field(0.2, ge=0, le=1)
    praise_is_out_of_taxonomy: bool = True  # zero-shot: a remark that only praises gets the out-of-taxonomy cause
    # zero-shot: the share of its probability a cause the taxonomy lists as ``mentioned_in_passing`` (support) keeps
    # where another cause, not the out-of-taxonomy one, has keyword or pattern evidence (1: off)
    in_passing_weight: float = Field(0.5, ge=0, le=1)
    multi_label_min: float = 0.3  # every cause at least this probable is listed in ``labels``
    # a tagger trained with untagged feedback also asks that feedback: its k nearest items' causes (0: off)
    neighbours: int = Field(10, ge=0)
    neighbour_weight: float = Field(0.5, ge=0, le=1)
    neighbour_memory: int = Field(20000, ge=1)  # most untagged items a saved model remembers

    _known = _backend("tagger")


class MeasureConfig(_Section):
    recent_weeks: int = 4
    # trends (growth, spikes, "since week N") need this many weeks before the recent window; with less history,
    # or no timestamps, a run makes no trend claim and ranks on volume and severity
    min_baseline_weeks: int = Field(4, ge=1)
    segment_columns: list[str] = Field(
        default_factory=lambda: ["carrier", "payment_provider", "warehouse", "product_category", "channel",
                                 "contact_reason"]
    )
    # the columns that can name who or what is behind an action; channel says where feedback came from,
    # and a theme's channel mix mostly reflects writing style, so it is reported but never names an action
    cause_columns: list[str] = Field(default_factory=lambda: ["carrier", "payment_provider", "warehouse",
                                                              "product_category"])
    fdr: float = 0.05
    min_segment_n: int = 8


class RankConfig(_Section):
    min_theme_size: int = 10
    # only pain makes an action: a theme needs this many negative items and this share of them
    min_complaints: int = Field(5, ge=1)
    min_negative_share: float = Field(0.2, ge=0, le=1)
    # a theme below that share can still hold a sub-theme this full of complaints: an action of its own (None: never)
    min_pocket_share: float | None = Field(0.4, gt=0, le=1)
    n_evidence: int = 3
    max_actions: int = 25


class StoreConfig(_Section):
    backend: str = "sql"
    url: str | None = None  # None: $INSIGHT_STORE_URL, else SQLite under the insight home folder

    _known = _backend("store")


class WeeklyConfig(_Section):
    """``insight weekly``: what a weekly run reclassifies, when it retrains and rediscovers."""

    partition_size: int = Field(2000, ge=1)  # items per partition (a Dask task); results do not depend on it
    retrain_min_corrections: int = Field(10, ge=1)  # new reviewers' corrections before a new tagger is tried
    holdout_every: int = Field(5, ge=2)  # every n-th new correction is held out to compare old and new tagger
    max_retag_share: float = Field(0.2, ge=0, le=1)  # a new tagger moving more root causes than this: a warning
    discover_min: int = Field(30, ge=2)  # unthemed items needed before new themes are looked for among them
    rediscover_every: int = Field(4, ge=0)  # every n-th weekly run rediscovers themes from all items (0: never)
    describe_per_theme: int = Field(300, ge=10)  # items per theme read to name and describe it...
    describe_sample: int = Field(20000, ge=100)  # ...and in all (fewer per theme when there are many themes)
    # pockets of complaints in themes of praise are looked for in every item of those themes, up to this many
    # (0: never); a million-item store holds ~400,000 such items, which added 15-19 s and 0.2-0.3 GB to a run
    pocket_max_items: int = Field(200_000, ge=0)
    # rows with neither an id nor a timestamp: "match" (a row held before, word for word, is the same row: safe
    # for exports that repeat earlier rows) or "per_file" (every row of a new file is new: for exports of new rows)
    rows_without_ids: Literal["match", "per_file"] = "match"


class AccessConfig(_Section):
    """Roles for the review app and every write to the store (``insight.access``). No roles: local mode, where
    anyone who gives a name may review and the app says so. Each role lists e-mails, ``*@domain`` or
    ``group:name`` (a group claim from the login provider)."""

    roles: dict[Literal["viewer", "reviewer", "admin"], list[str]] = Field(default_factory=dict)
    default_role: Literal["viewer", "reviewer", "admin"] | None = "viewer"  # a logged-in user no rule names


# the out-of-taxonomy floor measured with the packaged all-MiniLM-L6-v2 (docs/evaluation.md, "Out of the shop's
# domain"): it sends 43 % of off-topic queries to other (29 % without) and moves no dev-set remark
OUT_OF_TAXONOMY_BELOW = 0.2
PACKAGED_ENCODERS = ("sentence-transformers", "onnx")  # the packaged model, through torch or its ONNX export


class Config(_Section):
    seed: int = 42
    data_dir: str = "../shared/data"
    home: str = ".insight"  # local state: SQLite store, embedding cache, exports
    # runs, theme ids, the registry and action decisions of one dataset; another workspace never shares them
    workspace: str = Field(default_factory=lambda: os.environ.get(WORKSPACE_ENV, DEFAULT_WORKSPACE),
                           pattern=r"^[a-z0-9][a-z0-9_.-]{0,59}$")
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    clean: CleanConfig = Field(default_factory=CleanConfig)
    embed: EmbedConfig = Field(default_factory=EmbedConfig)
    themes: ThemesConfig = Field(default_factory=ThemesConfig)
    tag: TagConfig = Field(default_factory=TagConfig)
    measure: MeasureConfig = Field(default_factory=MeasureConfig)
    rank: RankConfig = Field(default_factory=RankConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    weekly: WeeklyConfig = Field(default_factory=WeeklyConfig)
    access: AccessConfig = Field(default_factory=AccessConfig)

    @model_validator(mode="after")
    def _floor_for_the_encoder(self) -> Config:
        """``tag.out_of_taxonomy_below: auto`` becomes a number only where the packaged encoder gives the cosines."""
        if self.tag.out_of_taxonomy_below == "auto":
            self.tag.out_of_taxonomy_below = OUT_OF_TAXONOMY_BELOW if self.embed.backend in PACKAGED_ENCODERS else None
        return self

    @property
    def home_path(self) -> Path:
        return Path(os.environ.get(HOME_ENV, self.home))

    @property
    def store_url(self) -> str:
        if self.store.url:
            return self.store.url
        if os.environ.get(STORE_URL_ENV):
            return os.environ[STORE_URL_ENV]
        return f"sqlite:///{(self.home_path / 'insight.db').as_posix()}"

    @property
    def data_path(self) -> Path:
        return Path(os.environ.get(DATA_DIR_ENV, self.data_dir))

    def fingerprint(self) -> str:
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


# ---------------------------------------------------------------- taxonomy

def _regexes(v: list[str]) -> list[str]:
    for p in v:
        try:
            re.compile(p)
        except re.error as exc:
            raise ValueError(f"pattern {p!r} is not a valid regular expression: {exc}") from exc
    return v


class PlaybookVariant(_Section):
    """A more specific playbook within a cause, for actions whose complaints say so: "the agent was rude" needs
    coaching, "the call got disconnected" a telephony fix, where the cause's own playbook says "add staffing".
    Chosen when at least ``min_share`` of an action's complaints of its cause match one of ``when`` (regular
    expressions, case-insensitive); of several, the one most of them match."""

    when: list[str] = Field(min_length=1)
    title: str  # may use {theme} and {segment}, as the cause's playbook
    steps: list[str] = Field(default_factory=list)
    min_share: float = Field(0.3, gt=0, le=1)

    @field_validator("when")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        _regexes([_joined(_regexes(v))])  # checked as it is matched: "(?i)" compiles alone, not joined
        return v

    def matcher(self) -> re.Pattern:
        """The ``when`` patterns as the one expression complaints are matched with."""
        return re.compile(_joined(self.when), re.IGNORECASE)


def _joined(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


class Playbook(_Section):
    title: str  # may use {theme} and {segment}
    steps: list[str] = Field(default_factory=list)
    variants: list[PlaybookVariant] = Field(default_factory=list)


class RootCause(_Section):
    description: str
    owner: str = ""  # "" : "<Cause> team" (Taxonomy fills it), so a taxonomy written to evaluate needs no org chart
    seeds: list[str] = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)  # words or phrases, matched on lemmas
    # regular expressions (case-insensitive) for evidence that needs context: "driver (?:never|didn't) came", not
    # "driver"; ``exclude`` patterns cancel this cause's keyword and pattern evidence in a text ("printer driver")
    patterns: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    playbook: Playbook | None = None  # None: a generic "<theme>: look into <cause>" playbook (Taxonomy fills it)
    parent: str | None = None

    @field_validator("patterns", "exclude")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        return _regexes(v)


class Taxonomy(_Section):
    name: str
    version: str = "1"
    root_causes: dict[str, RootCause]
    # the cause for items that fit no other ("other"): chosen when no cause's prototypes or keywords fit well
    # (out-of-taxonomy detection), not learnt from its own seeds alone. Default: "other" where that key exists.
    out_of_taxonomy: str | None = None
    # causes customers name alongside the real problem ("called support three times, the parcel is still lost"):
    # such a cause wins only where no other cause has keyword or pattern evidence (``tag.in_passing_weight``)
    mentioned_in_passing: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fallback_is_a_key(self) -> Taxonomy:
        if self.out_of_taxonomy is None and "other" in self.root_causes:
            self.out_of_taxonomy = "other"
        if self.out_of_taxonomy is not None and self.out_of_taxonomy not in self.root_causes:
            raise ValueError(f"out_of_taxonomy names {self.out_of_taxonomy!r}, which is not a root cause "
                             f"({', '.join(self.root_causes)})")
        unknown = [k for k in self.mentioned_in_passing if k not in self.root_causes]
        if unknown:
            raise ValueError(f"mentioned_in_passing names {unknown}, not root causes ({', '.join(self.root_causes)})")
        return self

    @field_validator("root_causes")
    @classmethod
    def _at_least_two(cls, v: dict[str, RootCause]) -> dict[str, RootCause]:
        if len(v) < 2:
            raise ValueError("a taxonomy needs at least two root causes")
        bad = [k for k in v if not k.replace("_", "").isalnum() or k != k.lower()]
        if bad:
            raise ValueError(f"root-cause keys must be lower_snake_case, got {bad}")
        for key, rc in v.items():  # owner and playbook are optional: sensible defaults from the key
            words = key.replace("_", " ")
            if not rc.owner:
                rc.owner = f"{words[:1].upper()}{words[1:]} team"
            if rc.playbook is None:
                rc.playbook = Playbook(title=f"{{theme}}: look into {words}", steps=[
                    "Read the evidence quotes and confirm the problem with the owner team",
                    "Agree a fix and a date with the owner",
                    "Watch the theme's volume in the weeks after the fix"])
        return v

    @property
    def keys(self) -> list[str]:
        return list(self.root_causes)

    def fingerprint(self) -> str:
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def tagging_fingerprint(self) -> str:
        """What tagging reads of the taxonomy (keys, descriptions, seeds, keywords, patterns, parents, the
        out-of-taxonomy cause): owners and playbooks change no tag, so editing them retrains nothing."""
        tagging = self.model_dump(mode="json", exclude={"name": True, "version": True, "root_causes": {
            k: {"owner", "playbook"} for k in self.root_causes}})
        if not tagging["mentioned_in_passing"]:  # absent before it existed: the same taxonomy, the same fingerprint
            del tagging["mentioned_in_passing"]
        return hashlib.sha256(json.dumps(tagging, sort_keys=True).encode()).hexdigest()[:12]


# ---------------------------------------------------------------- loading

def _read_yaml(path: Path | None, packaged: str) -> tuple[dict[str, Any], str]:
    if path is None:
        text = resources.files("insight._configs").joinpath(packaged).read_text(encoding="utf-8")
        where = f"<packaged {packaged}>"
    else:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}", code="E101")
        text = path.read_text(encoding="utf-8")
        where = str(path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where} is not valid YAML: {exc}", code="E102") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must hold a mapping at the top level", code="E102")
    return data, where


def _explain(exc: ValidationError, where: str, model: type[BaseModel]) -> ConfigError:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown key {loc!r}{_valid_keys_hint(model, err['loc'])}")
        else:
            lines.append(f"{loc}: {err['msg']}")
    return ConfigError(f"{where} is invalid:\n  - " + "\n  - ".join(lines), code="E103")


def _valid_keys_hint(model: type[BaseModel], loc: tuple) -> str:
    import typing

    current: Any = model
    for part in loc[:-1]:
        if typing.get_origin(current) is dict:  # a mapping of models: the key is a user name, step into the value
            current = typing.get_args(current)[1]
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return ""
        current = field.annotation
    fields = getattr(current, "model_fields", None)
    return f" (valid keys: {', '.join(fields)})" if fields else ""


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """The packaged defaults, updated by a user YAML file, updated by keyword overrides."""
    data, _ = _read_yaml(None, "default.yaml")
    where = "<packaged default.yaml>"
    if path is not None:
        user, where = _read_yaml(Path(path), "")
        data = _deep_merge(data, user)
    data = _deep_merge(data, overrides)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, where, Config) from None


def load_taxonomy(source: str | Path = "default") -> Taxonomy:
    """``"default"`` is the packaged e-commerce taxonomy; anything else is a path to a YAML file."""
    data, where = _read_yaml(None if str(source) == "default" else Path(source), "taxonomy.yaml")
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, where, Taxonomy) from None


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
