"""Receipts and statements as HTML pages a driver can read, print or keep (Jinja2 templates in
``templates/``, autoescaped: names and reasons are text, never markup)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from csms.domain.accounts import Account
from csms.domain.receipts import Receipt, Statement


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _kwh(wh: float | None) -> str:
    return "" if wh is None else f"{Decimal(str(wh)) / 1000:.3f}"


def _qty(value: Any) -> str:
    """An exact quantity (kWh, minutes) shown to three decimals; the amount is what counts."""
    return f"{Decimal(str(value)):.3f}".rstrip("0").rstrip(".")


_env = Environment(loader=PackageLoader("csms.payments", "templates"),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_env.filters.update(when=_when, kwh=_kwh, qty=_qty)


def receipt_html(receipt: Receipt, account: Account) -> str:
    return _env.get_template("receipt.html").render(receipt=receipt, account=account)


def statement_html(statement: Statement, account: Account) -> str:
    return _env.get_template("statement.html").render(statement=statement, account=account)
