"""Retarget presets: name matching, preset detection and the values a mapping bakes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from blender_lipsync.core.contract import MOUTH_CHANNELS, RHUBARB_SHAPE_OF_VISEME, VISEMES, Curves
from blender_lipsync.core.retarget import (
    PRESETS,
    MappingRow,
    Preset,
    apply_mapping,
    detect_preset,
    is_valid_source,
    normalize_name,
    parse_source,
    resolve,
    viseme_source,
)

VOWEL_PRESETS = ("vrm", "vrm1", "mmd")


def one_viseme(*names: str) -> Curves:
    """One frame per name, each with that viseme at probability 1 and all channels at 0."""
    visemes = np.zeros((len(names), len(VISEMES)), dtype=np.float32)
    for frame, name in enumerate(names):
        visemes[frame, VISEMES.index(name)] = 1.0
    return Curves(50.0, np.zeros((len(names), len(MOUTH_CHANNELS))), visemes)


def random_curves(frames: int = 64, seed: int = 0) -> Curves:
    rng = np.random.default_rng(seed)
    return Curves(50.0, rng.uniform(0, 1, (frames, len(MOUTH_CHANNELS))), rng.dirichlet(np.ones(15), frames))


def baked(preset_id: str, curves: Curves) -> dict[str, np.ndarray]:
    return apply_mapping(curves, PRESETS[preset_id].rows)


# --------------------------------------------------------------------------- sources and presets


def test_parse_source_columns_and_errors() -> None:
    assert parse_source("jawOpen") == ("channel", MOUTH_CHANNELS.index("jawOpen"))
    assert parse_source("viseme:PP") == ("viseme", VISEMES.index("PP"))
    assert viseme_source("aa") == "viseme:aa"
    with pytest.raises(ValueError, match=r"unknown source 'jawopen' \(did you mean 'jawOpen'\?\)"):
        parse_source("jawopen")
    with pytest.raises(ValueError, match="unknown source 'eyeBlinkLeft'"):
        parse_source("eyeBlinkLeft")
    with pytest.raises(ValueError, match=r"unknown viseme 'XX' in source 'viseme:XX'"):
        parse_source("viseme:XX")
    with pytest.raises(ValueError, match="unknown viseme 'pp'"):
        viseme_source("pp")
    assert is_valid_source("viseme:sil") and not is_valid_source("viseme:") and not is_valid_source("")


@pytest.mark.parametrize("preset", PRESETS.values(), ids=list(PRESETS))
def test_every_preset_row_is_valid(preset: Preset) -> None:
    assert preset.rows and preset.id and preset.label and preset.description
    for row in preset.rows:
        assert is_valid_source(row.source), row
        assert 0 < row.gain <= 1, row
    norms = [normalize_name(t) for t in preset.targets]
    assert len(set(norms)) == len(norms)


def test_preset_ids_and_exact_target_names() -> None:
    assert {"arkit", "oculus", "vrchat", "vrm", "cc", "rhubarb", "preston_blair"} <= set(PRESETS)
    assert PRESETS["arkit"].targets == MOUTH_CHANNELS
    assert all(row.source == row.target for row in PRESETS["arkit"].rows)
    assert PRESETS["oculus"].targets == tuple(f"viseme_{v}" for v in VISEMES)
    assert [r.source for r in PRESETS["oculus"].rows] == [f"viseme:{v}" for v in VISEMES]
    vrc = ["sil", "pp", "ff", "th", "dd", "kk", "ch", "ss", "nn", "rr", "aa", "e", "ih", "oh", "ou"]
    assert PRESETS["vrchat"].targets == tuple(f"vrc.v_{s}" for s in vrc)
    assert [r.source for r in PRESETS["vrchat"].rows] == [f"viseme:{v}" for v in VISEMES]
    assert PRESETS["vrm"].targets == tuple(f"Fcl_MTH_{v}" for v in "AIUEO")
    assert PRESETS["vrm1"].targets == ("aa", "ih", "ou", "ee", "oh")
    assert set(PRESETS["cc"].targets) == {
        *("V_Open", "V_Explosive", "V_Dental_Lip", "V_Tight_O", "V_Tight", "V_Wide", "V_Affricate"),
        *("V_Lip_Open", "V_Tongue_up", "V_Tongue_Raise", "V_Tongue_Out", "V_Tongue_Narrow"),
        *("V_Tongue_Lower", "V_Tongue_Curl_U", "V_Tongue_Curl_D"),
    }
    assert set(PRESETS["rhubarb"].targets) == set("ABCDEFGHX")
    assert set(PRESETS["preston_blair"].targets) == {
        "AI",
        "E",
        "O",
        "U",
        "WQ",
        "MBP",
        "FV",
        "L",
        "etc",
        "rest",
    }


def test_rhubarb_rows_follow_the_contract_table() -> None:
    rows = PRESETS["rhubarb"].rows
    assert sorted(r.source for r in rows) == sorted(f"viseme:{v}" for v in VISEMES)
    for row in rows:
        assert RHUBARB_SHAPE_OF_VISEME[row.source.removeprefix("viseme:")] == row.target
        assert row.gain == 1.0


def test_preset_rejects_bad_rows() -> None:
    with pytest.raises(ValueError, match=r"preset 'bad', target 'Jaw': unknown source 'jaw'"):
        Preset("bad", "Bad", "", (MappingRow("Jaw", "jaw"),))
    with pytest.raises(ValueError, match="normalise alike"):
        Preset("bad", "Bad", "", (MappingRow("jawOpen", "jawOpen"), MappingRow("Jaw_Open", "jawOpen")))
    with pytest.raises(ValueError, match="no required target"):
        Preset("bad", "Bad", "", (MappingRow("X", "jawOpen"),), frozenset({"X"}))


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("jaw_open", "jawOpen"),
        ("JawOpen", "jawOpen"),
        ("JAW-OPEN", "jawOpen"),
        ("jaw open", "jawOpen"),
        ("mouthSmile_L", "mouthSmileLeft"),
        ("mouthSmile.L", "mouthSmileLeft"),
        ("mouth_smile_l", "mouthSmileLeft"),
        ("MouthSmileR", "mouthSmileRight"),
        ("mouthLowerDown_R", "mouthLowerDownRight"),
        ("Key_jawOpen", "jawOpen"),
        ("Shape_Key_jawOpen", "jawOpen"),
        ("blendShape1.jawOpen", "jawOpen"),
        ("blendshape.mouthFunnel", "mouthFunnel"),
        ("ARKit_mouthClose", "mouthClose"),
        ("Face_cheekPuff", "cheekPuff"),
        ("CC_Base_Body.V_Open", "V_Open"),
        ("Tight-O", "V_Tight_O"),  # CC3 spelling of a CC4 key
        ("Fcl_MTH_A", "A"),
        ("mouth_A", "A"),
        ("Mouth.X", "X"),
        ("mouth_L", "mouthLeft"),  # not Preston Blair's L
        ("viseme_PP", "PP"),
        ("vrc.v_ih", "ih"),
    ],
)
def test_normalize_name_folds_spellings(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("mouthSmileLeft", "mouthSmileRight"), ("jawLeft", "jawRight"), ("L", "mouthLeft"), ("E", "I")],
)
def test_normalize_name_keeps_distinct_names_apart(a: str, b: str) -> None:
    assert normalize_name(a) != normalize_name(b)


def test_lone_side_letter_is_a_shape_not_a_side() -> None:
    assert normalize_name("L") == normalize_name("Key_L") == "l"


# --------------------------------------------------------------------------- detection


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _side_suffix(name: str, style: str) -> str:
    return re.sub(r"(Left|Right)$", lambda m: style + m.group(1)[0], name)


SPELLINGS = {
    "exact": lambda n: n,
    "lower": str.lower,
    "upper": str.upper,
    "snake": _snake,
    "side_L": lambda n: _side_suffix(n, "_"),
    "side_dotL": lambda n: _side_suffix(n, "."),
    "Key_": lambda n: "Key_" + n,
    "CC_Base_Body.": lambda n: "CC_Base_Body." + n,
    "blendShape1.": lambda n: "blendShape1." + n,
}


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_every_preset_detects_itself(preset_id: str, spelling: str) -> None:
    keys = ["Basis", *(SPELLINGS[spelling](t) for t in PRESETS[preset_id].targets), "eyeBlinkLeft"]
    res = detect_preset(keys)
    assert res is not None and res.preset.id == preset_id
    assert res.coverage == 1.0 and res.missing == ()
    assert set(res.matched.values()) == set(keys[1:-1])
    # Every row survives, re-targeted at the rig's own spelling.
    assert [(r.source, r.gain) for r in res.rows] == [(r.source, r.gain) for r in PRESETS[preset_id].rows]
    assert all(r.target in keys for r in res.rows)


def test_side_suffix_spellings_reach_the_right_keys() -> None:
    keys = [_side_suffix(c, "_") for c in MOUTH_CHANNELS]
    res = resolve("arkit", keys)
    assert res.matched["mouthSmileLeft"] == "mouthSmile_L"
    assert res.matched["mouthSmileRight"] == "mouthSmile_R"
    assert res.matched["jawLeft"] == "jaw_L" and res.matched["mouthLeft"] == "mouth_L"


@pytest.mark.parametrize(
    "keys",
    [[], ["Basis"], ["Basis", "Smile"], ["Basis", "Smile", "Blink", "Frown"], ["Basis", "A"], ["jawOpen"]],
)
def test_unrelated_meshes_are_not_detected(keys: list[str]) -> None:
    assert detect_preset(keys) is None


def test_one_matched_key_is_not_enough_even_for_a_small_preset() -> None:
    tiny = {
        "tiny": Preset(
            "tiny", "Tiny", "", (MappingRow("Smile", "mouthSmileLeft"), MappingRow("Open", "jawOpen"))
        )
    }
    assert detect_preset(["Basis", "Smile"], tiny) is None  # half the targets, but a single key
    res = detect_preset(["Basis", "smile", "OPEN"], tiny)
    assert res is not None and res.matched == {"Smile": "smile", "Open": "OPEN"}


def test_rhubarb_with_mouth_prefix() -> None:
    keys = [f"mouth_{s}" for s in "ABCDEFGHX"]
    res = detect_preset(keys)
    assert res is not None and res.preset.id == "rhubarb" and res.matched["A"] == "mouth_A"


def test_full_arkit_beats_full_visemes_on_a_ready_player_me_head() -> None:
    rpm = [*MOUTH_CHANNELS, *PRESETS["oculus"].targets, "eyeBlinkLeft", "mouthOpen"]
    res = detect_preset(rpm)
    assert res is not None and res.preset.id == "arkit"
    no_tongue = [k for k in rpm if k != "tongueOut"]  # near-complete ARKit still wins
    res = detect_preset(no_tongue)
    assert res is not None and res.preset.id == "arkit" and res.missing == ("tongueOut",)


def test_arkit_subset_next_to_full_visemes_resolves_to_visemes() -> None:
    keys = [*MOUTH_CHANNELS[:10], *PRESETS["vrchat"].targets]
    res = detect_preset(keys)
    assert res is not None and res.preset.id == "vrchat" and res.coverage == 1.0


def test_mixed_rig_resolves_the_better_preset() -> None:
    # Full Preston Blair chart plus a few stray Rhubarb letters and ARKit keys.
    keys = [*PRESETS["preston_blair"].targets, "A", "B", "jawOpen", "mouthClose"]
    res = detect_preset(keys)
    assert res is not None and res.preset.id == "preston_blair"
    # Most of a VRoid face, two Oculus visemes: VRM.
    res = detect_preset(["Fcl_MTH_A", "Fcl_MTH_I", "Fcl_MTH_U", "Fcl_MTH_O", "viseme_aa", "viseme_PP"])
    assert res is not None and res.preset.id == "vrm" and res.missing == ("Fcl_MTH_E",)


def test_ecosystem_prefix_keeps_viseme_keys_out_of_other_presets() -> None:
    vowels = ["viseme_aa", "viseme_E", "viseme_I", "viseme_O", "viseme_U"]
    for preset_id in ("rhubarb", "preston_blair", "vrm", "vrm1"):
        assert resolve(preset_id, vowels).matched == {}, preset_id
    res = detect_preset(vowels)  # only Oculus may claim them: 5 of 15
    assert res is not None and res.preset.id == "oculus" and len(res.matched) == 5
    # Bare vowel letters are a VRM rig, not a partial Oculus one.
    res = detect_preset(["A", "I", "U", "E", "O"])
    assert res is not None and res.preset.id == "vrm" and res.matched["Fcl_MTH_E"] == "E"
    # CC's V_Tongue_Out is not ARKit's tongueOut.
    assert "tongueOut" not in resolve("arkit", ["V_Tongue_Out", "jawOpen"]).matched


def test_cc_body_without_tongue_mesh_is_complete() -> None:
    lips = ["V_Open", "V_Explosive", "V_Dental_Lip", "V_Tight_O", "V_Tight", "V_Wide", "V_Affricate"]
    body = [f"CC_Base_Body.{k}" for k in [*lips, "V_Lip_Open"]]
    # A CC4 body also carries ARKit-like expression keys; the visemes must still win.
    body += ["Jaw_Open", "Mouth_Close", "Mouth_Smile_L", "Mouth_Smile_R", "Mouth_Frown_L", "Mouth_Frown_R"]
    body += ["Mouth_Press_L", "Mouth_Press_R", "Mouth_Stretch_L", "Mouth_Stretch_R", "Jaw_L", "Jaw_R"]
    res = detect_preset(body)
    assert res is not None and res.preset.id == "cc" and res.coverage == 1.0
    assert res.matched["V_Open"] == "CC_Base_Body.V_Open"
    assert "V_Tongue_Out" in res.missing and len(res.missing) == 7
    tongue = detect_preset(["V_Tongue_up", "V_Tongue_Raise", "V_Tongue_Out", "V_Tongue_Narrow", "Tongue_Out"])
    assert tongue is not None and tongue.preset.id == "cc" and 0 < tongue.coverage < 1


def test_resolve_reports_missing_and_coverage() -> None:
    res = resolve("oculus", ["viseme_sil", "Viseme_PP", "VISEME_AA", "Basis"])
    assert res.matched == {"viseme_sil": "viseme_sil", "viseme_PP": "Viseme_PP", "viseme_aa": "VISEME_AA"}
    assert res.coverage == pytest.approx(3 / 15) and len(res.missing) == 12 and "viseme_U" in res.missing
    assert {r.target for r in res.rows} == {"viseme_sil", "Viseme_PP", "VISEME_AA"}
    assert res.exact_matches == 1


def test_resolve_prefers_exact_then_same_case_spelling() -> None:
    assert resolve("arkit", ["JawOpen", "jaw_open", "jawOpen"]).matched["jawOpen"] == "jawOpen"
    assert resolve("arkit", ["jaw_open", "JAWOPEN"]).matched["jawOpen"] == "JAWOPEN"
    assert resolve("arkit", ["jaw_open", "Jaw-Open"]).matched["jawOpen"] == "jaw_open"


def test_resolve_rejects_unknown_preset_id() -> None:
    with pytest.raises(ValueError, match=r"unknown preset 'nope'.*arkit"):
        resolve("nope", ["jawOpen"])


# --------------------------------------------------------------------------- values


def test_closed_lips_close_every_chart() -> None:
    out = {p: baked(p, one_viseme("PP")) for p in PRESETS}
    rh = out["rhubarb"]
    assert rh["A"][0] == 1.0 and all(rh[s][0] == 0.0 for s in "BCDEFGHX")
    for preset_id in VOWEL_PRESETS:
        assert all(v[0] == 0.0 for v in out[preset_id].values()), preset_id
    assert out["oculus"]["viseme_PP"][0] == 1.0 and out["vrchat"]["vrc.v_pp"][0] == 1.0
    assert out["preston_blair"]["MBP"][0] == 1.0 and out["preston_blair"]["AI"][0] == 0.0
    assert out["cc"]["V_Explosive"][0] == 1.0 and out["cc"]["V_Open"][0] == 0.0


def test_silence_is_rest_and_vowels_open_their_key() -> None:
    curves = one_viseme("sil", "aa", "I", "U", "E", "O")
    vrm = baked("vrm", curves)
    expected = {"Fcl_MTH_A": 1, "Fcl_MTH_I": 2, "Fcl_MTH_U": 3, "Fcl_MTH_E": 4, "Fcl_MTH_O": 5}
    for key, frame in expected.items():
        assert vrm[key][frame] == 1.0
        assert vrm[key][0] == 0.0  # silence: mouth at rest
    assert baked("rhubarb", curves)["X"][0] == 1.0 and baked("rhubarb", curves)["D"][1] == 1.0
    assert baked("preston_blair", curves)["rest"][0] == 1.0 and baked("vrm1", curves)["aa"][1] == 1.0


def test_blended_visemes_sum_with_gains() -> None:
    visemes = np.zeros((1, len(VISEMES)))
    visemes[0, VISEMES.index("aa")] = 0.5
    visemes[0, VISEMES.index("kk")] = 0.5
    vrm = baked("vrm", Curves(50.0, np.zeros((1, len(MOUTH_CHANNELS))), visemes))
    assert vrm["Fcl_MTH_A"][0] == pytest.approx(0.5 + 0.3 * 0.5)
    assert vrm["Fcl_MTH_E"][0] == pytest.approx(0.3 * 0.5)
    rh = baked("rhubarb", Curves(50.0, np.zeros((1, len(MOUTH_CHANNELS))), visemes))
    assert rh["D"][0] == pytest.approx(0.5) and rh["B"][0] == pytest.approx(0.5)


def test_arkit_is_identity_and_rig_names_are_kept() -> None:
    curves = random_curves()
    res = resolve("arkit", [_snake(c) for c in MOUTH_CHANNELS])
    out = apply_mapping(curves, res.rows)
    assert list(out) == [_snake(c) for c in MOUTH_CHANNELS]
    for i, channel in enumerate(MOUTH_CHANNELS):
        np.testing.assert_array_equal(out[_snake(channel)], curves.channels[:, i])


@pytest.mark.parametrize("preset_id", list(PRESETS))
def test_values_are_float32_in_range(preset_id: str) -> None:
    curves = random_curves(frames=200, seed=1)
    out = baked(preset_id, curves)
    assert list(out) == list(PRESETS[preset_id].targets)
    for values in out.values():
        assert values.dtype == np.float32 and values.shape == (200,)
        assert values.min() >= 0.0 and values.max() <= 1.0
    if preset_id == "rhubarb":  # each viseme shows exactly one chart shape
        np.testing.assert_allclose(sum(out.values()), 1.0, atol=1e-5)


def test_apply_mapping_sums_clips_and_validates() -> None:
    curves = one_viseme("aa", "E")
    rows = [
        MappingRow("open", "viseme:aa", 0.8),
        MappingRow("open", "viseme:E", 0.5),
        MappingRow("open", "viseme:aa", 0.7),  # 1.5 on frame 0: clipped
        MappingRow("shut", "viseme:E", -2.0),  # negative: clipped at 0
        MappingRow("jaw", "jawOpen"),
    ]
    out = apply_mapping(curves, rows)
    np.testing.assert_allclose(out["open"], [1.0, 0.5])
    np.testing.assert_array_equal(out["shut"], [0.0, 0.0])
    np.testing.assert_array_equal(out["jaw"], [0.0, 0.0])
    with pytest.raises(ValueError, match="unknown viseme 'AA'"):
        apply_mapping(curves, [MappingRow("open", "viseme:AA")])
    with pytest.raises(ValueError, match="unknown source 'mouthOpen'"):
        apply_mapping(curves, [MappingRow("open", "mouthOpen")])
    with pytest.raises(ValueError, match="not finite"):
        apply_mapping(curves, [MappingRow("open", "jawOpen", float("nan"))])
    assert apply_mapping(curves, []) == {}


def test_a_partial_arkit_face_with_exact_names_is_detected() -> None:
    names = ["Basis", "jawOpen", "mouthClose", "mouthFunnel", "mouthPressLeft", "mouthPressRight"]
    found = detect_preset(names)
    assert found is not None and found.preset.id == "arkit" and len(found.rows) == 5
    assert detect_preset(["Basis", "jawopen", "MouthClose", "Smile"]) is None  # 2 loose matches, 7%
