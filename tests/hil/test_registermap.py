"""Register maps are data: every shipped map loads, and a bad map file names its mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.codec import decode, encode
from hil.registermap import MapError, available_maps, load_map, load_map_text

SHIPPED = ["abb_b23", "em24", "sdm630", "sdm72", "sunspec203"]


def test_shipped_maps_load_and_carry_the_energy_register() -> None:
    assert available_maps() == SHIPPED
    for name in SHIPPED:
        regmap = load_map(name)
        assert {"import_energy", "power_total", "voltage_l1", "current_l1", "frequency"} <= set(
            regmap.quantities()), name


def test_documented_addresses_and_encodings() -> None:
    sdm = load_map("sdm630")
    energy = sdm.register("import_energy")
    assert (energy.table, energy.address, energy.type, energy.unit) == ("input", 0x48,
                                                                        "float32", "kWh")
    # measurements (FC4) and settings (FC3) share addresses in separate tables
    assert sdm.constant_at("holding", 0x000A).value == 3  # system type 3P4W
    em24 = load_map("em24")
    assert em24.register("import_energy").address == 0x42
    assert encode(em24.register("import_energy"), 123_456.0) == [1235, 0]  # low word first
    abb = load_map("abb_b23")
    assert encode(abb.register("import_energy"), 2**40 * 10.0) == [0, 1 << 8, 0, 0]
    sunspec = load_map("sunspec203")
    assert sunspec.constant_at("holding", 40000).value == 0x5375
    assert sunspec.register("power_total").address == 40088
    w = sunspec.register("power_total")  # W_SF = 1: 10 W steps
    assert encode(w, 11_000.0, 1) == [1100]
    assert decode(w, [1100], 1) == 11_000.0


def test_adding_a_meter_is_adding_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mini.yaml"
    path.write_text("name: mini\ntitle: A tiny meter\nword_order: ABCD\n"
                    "tables: {holding: {ranges: [[0, 3]]}}\n"
                    "registers:\n"
                    "  - {table: holding, address: 0, type: uint32, unit: Wh, "
                    "quantity: import_energy}\n")
    regmap = load_map(path)
    assert regmap.name == "mini" and regmap.quantities() == ["import_energy"]


@pytest.mark.parametrize(("text", "expected"), [
    ("", "m.yaml:1:1: the document is empty; a register map is a mapping (name, title, "),
    ("- sdm630\n", "m.yaml:1:1: a register map is a mapping (name, title, word_order, "),
    ("name: x\ntitle: t\nword_order: BADC\ntables: {input: {ranges: [[0, 9]]}}\n"
     "registers: [{table: input, address: 0, type: float32, unit: V, quantity: voltage_l1}]\n",
     "m.yaml:3:13: word_order: \"BADC\" is not one of the allowed values: ABCD, CDAB"),
    ("name: x\ntitle: t\nword_order: ABCD\ntables: {input: {ranges: [[0, 9]]}}\n"
     "registers:\n  - {table: input, address: 0, type: float32, unit: V, quantity: voltage}\n",
     "m.yaml:6:66: registers[0].quantity: \"voltage\" is not one of the allowed values"),
    ("name: x\ntitle: t\nword_order: ABCD\ntables: {input: {ranges: [[0, 9]]}}\n"
     "registers:\n  - {table: input, address: 8, type: float32, unit: V, quantity: voltage_l1}\n"
     "  - {table: input, address: 10, type: float32, unit: V, quantity: voltage_l2}\n",
     "m.yaml:7:29: registers[1].address: 0x000a..0x000b lies outside the input table's ranges"),
    ("name: x\ntitle: t\nword_order: ABCD\ntables: {input: {ranges: [[0, 9]]}}\n"
     "registers:\n  - {table: input, address: 0, type: float32, unit: V, quantity: voltage_l1}\n"
     "  - {table: input, address: 1, type: float32, unit: V, quantity: voltage_l2}\n",
     "registers[1].address: overlaps the register at 0x0000"),
    ("name: x\ntitle: t\nword_order: ABCD\ntables: {input: {ranges: [[0, 9]]}}\n"
     "registers:\n  - {table: holding, address: 0, type: uint16, name: a, value: 1}\n",
     "registers[0].table: table 'holding' is not declared under 'tables' (declared: input)"),
    ("name: x\ntitle: t\nword_order: ABCD\ntables: {input: {ranges: [[0, 9]]}}\n"
     "registers:\n  - {table: input, address: 0, type: float32, unit: V}\n",
     "give exactly one of 'quantity' (a live value of the meter) or 'value' (a constant)"),
    ("name: x\ntitle: [unclosed\n", "m.yaml:3:1: YAML syntax error"),
])
def test_bad_maps_name_the_line_and_what_is_valid(text: str, expected: str) -> None:
    with pytest.raises(MapError) as caught:
        load_map_text(text, "m.yaml")
    assert expected in str(caught.value)


def test_unknown_map_name_suggests_the_shipped_ones() -> None:
    with pytest.raises(MapError, match=r'did you mean "sdm630"\? Maps: abb_b23, em24'):
        load_map("sdm603")
