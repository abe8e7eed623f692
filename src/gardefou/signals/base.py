"""The signal contract.

A signal is one small class in one file: a name (derived from the class), a version, the
policy facts it provides (``facts``), and ``extract(media, context) -> SignalResult``. Models
load lazily, once per process, through ``load()``; ``extract_batch`` may be overridden where
batching pays.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from gardefou.fact_spec import FactSpec

if TYPE_CHECKING:
    from gardefou.media import Media


@dataclass(frozen=True)
class SignalResult:
    """What one signal found in one piece of media.

    ``value`` is JSON-serializable (a hash string, a list of boxes, a level); ``score`` in [0, 1]
    is the signal's confidence that the finding is present (or None when not applicable);
    ``explanation`` is one sentence for a moderator, an appeal or a regulator.
    ``available`` is False when the signal could not run (missing model): such a result is
    never to be read as "clean".
    """

    name: str
    version: str
    value: Any
    score: float | None = None
    explanation: str = ""
    available: bool = True
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _snake(name: str) -> str:
    name = re.sub(r"Signal$", "", name)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Signal:
    """Base class of every signal. Subclasses set ``version`` and implement ``extract``."""

    #: registered name; derived from the class name (PdqSignal -> "pdq") unless set
    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    #: the pip extra that provides the model, quoted in ModelUnavailableError
    extra: ClassVar[str | None] = None
    #: True when extraction needs a model (the contract test checks lazy loading)
    needs_model: ClassVar[bool] = False
    #: the policy facts the signal provides beyond the generic ``<name>.score``, ``.value`` and
    #: ``.available``: attribute -> FactSpec named ``<name>.<attribute>`` whose ``read`` takes a
    #: SignalResult. The registry derives the policy's table of signal facts from these.
    facts: ClassVar[Mapping[str, FactSpec]] = {}

    _load_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = _snake(cls.__name__)

    def __init__(self) -> None:
        self._model: Any = None

    # -- model loading -------------------------------------------------------------------------
    def load_model(self) -> Any:
        """Load and return the model. Override in model-backed signals; called at most once."""
        return None

    def model(self) -> Any:
        """The loaded model, loading it on first use (thread-safe)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self.load_model()
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    # -- extraction ----------------------------------------------------------------------------
    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        raise NotImplementedError

    def extract_batch(
        self, items: Sequence[Media], context: Mapping[str, Any] | None = None
    ) -> list[SignalResult]:
        """Extract for several media; override where the model batches."""
        return [self.extract(m, context) for m in items]

    def result(
        self, value: Any, score: float | None = None, explanation: str = "", **details: Any
    ) -> SignalResult:
        return SignalResult(self.name, self.version, value, score, explanation, True, details)

    def unavailable(self, reason: str) -> SignalResult:
        return SignalResult(self.name, self.version, None, None, reason, False, {})
