"""Driver accounts for operators: create and change accounts, link id tokens (one account works
at every station), add cards, and see an account's receipts and monthly statements.

A driver reaches their own account under ``/api/me`` with a driver API token made for it:
``POST /api/api-tokens {"name": ..., "role": "driver", "subject": "<account id>"}``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from fastapi.responses import HTMLResponse

from csms.api.billing_views import (
    AccountCreate,
    AccountDetail,
    AccountPatch,
    AccountView,
    CardBody,
    LinkedTokenView,
    PaymentMethodView,
    ReceiptView,
    StatementView,
    TokenLink,
    account_view,
    domain_errors,
    method_view,
    receipt_view,
    statement_view,
    token_view,
    unprocessable,
)
from csms.api.schemas import ErrorBody
from csms.api.security import Core, Operator, Reader
from csms.core import CsmsCore
from csms.domain.accounts import Account
from csms.domain.receipts import Statement
from csms.payments.documents import statement_html
from csms.payments.provider import CardDetails

router = APIRouter(prefix="/api/accounts", tags=["accounts"])

NOT_FOUND = {404: {"model": ErrorBody, "description": "Unknown account."}}
CONFLICT = {409: {"model": ErrorBody, "description": "The id is taken, or the token is "
                                                     "linked to another account."}}


# -- what the operator and the driver APIs share --------------------------------------------------

def existing(core: CsmsCore, account_id: str) -> Account:
    account = core.accounts.cached(account_id)
    if account is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {account_id!r}")
    return account


def detail(core: CsmsCore, account: Account) -> AccountDetail:
    return AccountDetail(**account_view(account).model_dump(),
                         tokens=[token_view(r) for r in core.accounts.tokens(account.id)],
                         payment_methods=[method_view(m)
                                          for m in core.accounts.methods(account.id)])


async def link(core: CsmsCore, account_id: str, body: TokenLink) -> LinkedTokenView:
    with domain_errors():
        return token_view(await core.accounts.link_token(account_id, body.token, body.type))


async def unlink(core: CsmsCore, account_id: str, token: str) -> None:
    with domain_errors():
        await core.accounts.unlink_token(account_id, token)


async def add_card(core: CsmsCore, account_id: str, body: CardBody) -> PaymentMethodView:
    with domain_errors():
        method = await core.accounts.add_card(
            account_id, CardDetails(body.card_number, body.exp_month, body.exp_year,
                                    body.test_funds), make_default=body.make_default)
    return method_view(method)


async def make_default(core: CsmsCore, account_id: str, method_id: str) -> PaymentMethodView:
    with domain_errors():
        return method_view(await core.accounts.set_default(account_id, method_id))


async def remove_card(core: CsmsCore, account_id: str, method_id: str) -> None:
    with domain_errors():
        await core.accounts.remove_method(account_id, method_id)


async def statement_of(core: CsmsCore, account_id: str, month: str) -> Statement:
    try:
        return await core.receipts.statement(account_id, month)
    except ValueError as error:
        raise unprocessable("month", str(error), "path") from error


# -- operator routes ---------------------------------------------------------------------------

@router.post("", response_model=AccountView, status_code=status.HTTP_201_CREATED,
             responses=CONFLICT, summary="Create a driver account")
async def create_account(body: AccountCreate, core: Core, _: Operator) -> AccountView:
    with domain_errors():
        return account_view(await core.accounts.create(
            name=body.name, email=body.email, currency=body.currency, account_id=body.id,
            status=body.status))


@router.get("", response_model=list[AccountView], summary="Driver accounts, newest first")
async def list_accounts(core: Core, _: Reader,
                        status_: Literal["active", "suspended"] | None = Query(
                            None, alias="status")) -> list[AccountView]:
    return [account_view(a) for a in core.accounts.all(status_)]


@router.get("/{account_id}", response_model=AccountDetail, responses=NOT_FOUND,
            summary="One account with its id tokens and payment methods")
async def get_account(account_id: str, core: Core, _: Reader) -> AccountDetail:
    return detail(core, existing(core, account_id))


@router.patch("/{account_id}", response_model=AccountView, responses=NOT_FOUND,
              summary="Change an account's name, email or status (suspend, reactivate)")
async def patch_account(account_id: str, body: AccountPatch, core: Core,
                        _: Operator) -> AccountView:
    existing(core, account_id)
    with domain_errors():
        return account_view(await core.accounts.update(
            account_id, name=body.name, email=body.email, status=body.status))


@router.post("/{account_id}/tokens", response_model=LinkedTokenView,
             status_code=status.HTTP_201_CREATED, responses={**NOT_FOUND, **CONFLICT},
             summary="Link an id token to the account (created Accepted if unknown)")
async def link_token(account_id: str, body: TokenLink, core: Core,
                     _: Operator) -> LinkedTokenView:
    existing(core, account_id)
    return await link(core, account_id, body)


@router.delete("/{account_id}/tokens/{token}", status_code=status.HTTP_204_NO_CONTENT,
               responses=NOT_FOUND, summary="Unlink an id token (the token itself stays)")
async def unlink_token(account_id: str, token: str, core: Core, _: Operator) -> Response:
    existing(core, account_id)
    await unlink(core, account_id, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{account_id}/payment-methods", response_model=list[PaymentMethodView],
            responses=NOT_FOUND, summary="The account's cards, the default first")
async def list_methods(account_id: str, core: Core, _: Reader) -> list[PaymentMethodView]:
    existing(core, account_id)
    return [method_view(m) for m in core.accounts.methods(account_id)]


@router.post("/{account_id}/payment-methods", response_model=PaymentMethodView,
             status_code=status.HTTP_201_CREATED, responses=NOT_FOUND,
             summary="Add a card (registered with the payment provider; only its reference, "
                     "brand, last four digits and expiry are kept)")
async def add_method(account_id: str, body: CardBody, core: Core,
                     _: Operator) -> PaymentMethodView:
    existing(core, account_id)
    return await add_card(core, account_id, body)


@router.post("/{account_id}/payment-methods/{method_id}/default",
             response_model=PaymentMethodView, responses=NOT_FOUND,
             summary="Make a card the account's default")
async def default_method(account_id: str, method_id: str, core: Core,
                         _: Operator) -> PaymentMethodView:
    existing(core, account_id)
    return await make_default(core, account_id, method_id)


@router.delete("/{account_id}/payment-methods/{method_id}",
               status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND,
               summary="Remove a card (kept on record for the payments made with it)")
async def remove_method(account_id: str, method_id: str, core: Core, _: Operator) -> Response:
    existing(core, account_id)
    await remove_card(core, account_id, method_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{account_id}/receipts", response_model=list[ReceiptView], responses=NOT_FOUND,
            summary="The account's session receipts, newest first")
async def account_receipts(account_id: str, core: Core, _: Reader,
                           limit: int = Query(100, ge=1, le=1000),
                           offset: int = Query(0, ge=0)) -> list[ReceiptView]:
    existing(core, account_id)
    _total, receipts = await core.receipts.listing(account_id=account_id, limit=limit,
                                                   offset=offset)
    return [receipt_view(r) for r in receipts]


@router.get("/{account_id}/statements/{month}", response_model=StatementView,
            responses=NOT_FOUND, summary="The account's statement for a month (YYYY-MM, UTC)")
async def account_statement(account_id: str, month: str, core: Core,
                            _: Reader) -> StatementView:
    existing(core, account_id)
    return statement_view(await statement_of(core, account_id, month))


@router.get("/{account_id}/statements/{month}/html", response_class=HTMLResponse,
            responses=NOT_FOUND, summary="The account's statement for a month, as a web page")
async def account_statement_html(account_id: str, month: str, core: Core,
                                 _: Reader) -> HTMLResponse:
    account = existing(core, account_id)
    return HTMLResponse(statement_html(await statement_of(core, account_id, month), account))
