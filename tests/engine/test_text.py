import kejiyun_match
from kejiyun_match import normalise_text


def test_fullwidth_letters_digits_and_spaces_become_halfwidth() -> None:
    assert normalise_text("ＰＬＣ控制　系统１２３") == "plc控制 系统123"


def test_case_is_folded_and_whitespace_collapsed() -> None:
    assert normalise_text("  Deep\tLearning \n 深度学习 ") == "deep learning 深度学习"


def test_chinese_punctuation_without_an_ascii_twin_is_kept() -> None:
    assert normalise_text("茶叶、白酒。《标准》") == "茶叶、白酒。《标准》"


def test_fullwidth_punctuation_with_an_ascii_twin_is_converted() -> None:
    assert normalise_text("（ＡＩ），温度：３５℃") == "(ai),温度:35°c"


def test_public_surface_is_exactly_what_all_lists() -> None:
    public = {name for name in dir(kejiyun_match) if not name.startswith("_")}
    assert public == set(kejiyun_match.__all__)
