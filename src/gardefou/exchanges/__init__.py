"""Hash exchanges feeding banks: StopNCII and NCMEC (through python-threatexchange's clients)
and snapshot files.

    from gardefou.banks import BankService
    from gardefou.exchanges import ExchangeService

    banks = BankService(connect("gardefou.db"))
    ex = ExchangeService(banks)
    ex.add("stopncii", kind="stopncii", bank="victim-stopncii")   # keys from the environment
    ex.fetch("stopncii", progress=print)                             # resumable, incremental
    ex.queue_feedback(entry_id, "blocked")                           # sent by push_feedback()

Each exchange maps to one bank; its entries carry ``source = "exchange:<name>"`` (partner
imports), and ``provenance()`` names the exchange behind any entry. See docs/exchanges.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gardefou.banks import BankService
from gardefou.banks import other_signals as _other
from gardefou.clock import now
from gardefou.errors import ConfigError
from gardefou.exchanges import feedback, store
from gardefou.exchanges.clients import KINDS, Client
from gardefou.exchanges.credentials import check_reference, default_reference
from gardefou.exchanges.store import Exchange
from gardefou.exchanges.sync import FetchReport, client_for, fetch

__all__ = ["KINDS", "Exchange", "ExchangeService", "FetchReport"]


class ExchangeService:
    def __init__(self, banks: BankService) -> None:
        self.banks = banks
        self.db = banks.db

    def add(
        self,
        name: str,
        *,
        kind: str,
        bank: str,
        url: str = "",
        credentials: str | None = None,
        config: dict[str, Any] | None = None,
        create_bank: bool = True,
        actor: str | None = None,
    ) -> Exchange:
        """Configure an exchange feeding ``bank`` (created when missing). ``credentials`` is a
        reference, env:VAR or file:PATH (default env:GARDEFOU_EXCHANGE_<NAME>_CREDENTIALS)."""
        if kind not in KINDS:
            raise ConfigError(f"exchange kind {kind!r} is unknown; use one of {', '.join(KINDS)}")
        ref = "" if kind == "file" else check_reference(credentials or default_reference(name))
        if create_bank and not any(b.name == bank for b in self.banks.list_banks()):
            self.banks.create_bank(
                bank, description=f"fed by the {kind} exchange {name}", actor=actor
            )
        b = self.banks.get_bank(bank)
        with self.db.transaction():
            ex_id = store.insert(self.db, name, kind, b.id, url, ref, dict(config or {}))
            self.banks._audit(
                "exchange.add", actor=actor, bank_id=b.id, exchange=name, kind=kind, url=url
            )
        return store.get(self.db, ex_id)

    def get(self, name: str) -> Exchange:
        return store.get(self.db, name)

    def list(self) -> list[Exchange]:
        return store.list_all(self.db)

    def status(self, name: str) -> dict[str, Any]:
        ex = store.get(self.db, name)
        bank = self.banks.get_bank(ex.bank_id)
        return {
            **ex.to_dict(),
            "bank": bank.name,
            "bank_entries": self.banks.bank_stats(bank),
            "bank_other_signals": _other.counts(self.db, bank.id),
            "signals": store.signal_counts(self.db, ex.id),
            "feedback": feedback.counts(self.db, ex.id),
        }

    def remove(self, name: str, *, keep_entries: bool = True, actor: str | None = None) -> int:
        """Stop syncing; entries stay (they are the bank's now) unless ``keep_entries`` is
        False, which removes every entry this exchange brought. Returns entries removed."""
        ex = store.get(self.db, name)
        ids = [
            int(r["entry_id"])
            for r in self.db.query(
                "SELECT entry_id FROM exchange_signals WHERE exchange_id = ? AND "
                "status = 'active' AND entry_id IS NOT NULL",
                (ex.id,),
            )
        ]
        stamp = now()
        with self.db.transaction():
            self.db.execute(
                "UPDATE exchanges SET removed_at = ?, enabled = 0, name = ? WHERE id = ?",
                (stamp, f"{ex.name}#removed-{ex.id}", ex.id),
            )
            if not keep_entries:
                for i in ids:
                    self.db.execute(
                        "UPDATE bank_entries SET removed_at = ? WHERE id = ? "
                        "AND removed_at IS NULL",
                        (stamp, i),
                    )
            self.banks._audit(
                "exchange.remove",
                actor=actor,
                bank_id=ex.bank_id,
                exchange=ex.name,
                entries_removed=0 if keep_entries else len(ids),
            )
        if not keep_entries:
            if self.banks._live is not None:
                self.banks._live.remove(ids)
            return len(ids)
        return 0

    def fetch(self, name: str, **kwargs: Any) -> FetchReport:
        return fetch(self.banks, name, **kwargs)

    def queue_feedback(self, entry_id: int, verdict: str, tags: Iterable[str] = ()) -> int | None:
        return feedback.queue(self.db, entry_id, verdict, tags)

    def push_feedback(
        self, client_for_exchange: Callable[[Exchange], Client] = client_for, **kw: Any
    ) -> dict[str, int]:
        return feedback.push(self.db, client_for=client_for_exchange, **kw)

    def provenance(self, entry_ids: Iterable[int]) -> dict[int, str]:
        return store.provenance(self.db, list(entry_ids))
