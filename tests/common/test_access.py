"""The access file: what a valid one holds, and the start-up error of an invalid one."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.access import AccessError, hash_token, load_access
from services.common.settings import DEV_CONFIG


def partner(partner_id: str, system: str, agency: str = "police") -> str:
    return (
        f"  - id: {partner_id}\n    agency: {agency}\n    system: {system}\n"
        f'    token_sha256: "{hash_token(partner_id + "-token")}"\n'
    )


def test_the_development_access_file_loads() -> None:
    assert len(load_access(DEV_CONFIG).partners) > 1


def test_two_partners_sharing_one_system_stop_start_up_naming_the_system(tmp_path: Path) -> None:
    path = tmp_path / "access.yaml"
    path.write_text(
        "partners:\n" + partner("police-a", "shared-cad") + partner("police-b", "shared-cad", agency="hospital")
    )
    with pytest.raises(AccessError, match="partners share system shared-cad"):
        load_access(path)


def test_partners_with_their_own_systems_load(tmp_path: Path) -> None:
    path = tmp_path / "access.yaml"
    path.write_text("partners:\n" + partner("police-a", "cad-a") + partner("police-b", "cad-b"))
    assert [p.system for p in load_access(path).partners] == ["cad-a", "cad-b"]
