"""``journey forget``: the right to erasure, for one person at a time."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DataDirOption, console, paths_for


def forget(
    customer_key: Annotated[
        list[str] | None, typer.Argument(help="Customer key(s) to forget, e.g. ck_0022a34dda8d.")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Find the person by this email.")] = None,
    phone: Annotated[str | None, typer.Option(help="Find the person by this phone.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Erase a person from every table and file, and keep them out of later loads."""
    from ..privacy.erasure import RECEIPTS_DIR, find_customer_keys
    from ..privacy.erasure import forget as erase
    from ..privacy.person import UnknownPerson

    if not customer_key and not email and not phone:
        console.print("Say who to forget: a customer key, --email or --phone.")
        raise typer.Exit(2)
    paths = paths_for(data_dir)
    try:
        keys = find_customer_keys(paths, customer_key, email, phone)
        receipt = erase(paths, keys)
    except UnknownPerson as error:
        console.print(f"Nothing was erased: {error}.")
        raise typer.Exit(1) from None
    console.print(
        f"Forgot {len(keys)} customer key(s): {receipt.total_rows:,} rows removed from "
        f"{len(receipt.warehouse_rows_removed)} tables and {len(receipt.file_rows_removed)} files."
    )
    console.print(
        f"{len(receipt.landing_files_rewritten)} landing files were rewritten without them; "
        f"{len(receipt.tombstone_digests)} tombstones keep them out of later loads."
    )
    if receipt.files_not_erased:
        console.print("[yellow]These files hold them in a format that could not be edited:[/]")
        for name in receipt.files_not_erased:
            console.print(f"  {name}")
    console.print(f"Receipt: {paths.root / RECEIPTS_DIR / receipt.erasure_id}.json")
