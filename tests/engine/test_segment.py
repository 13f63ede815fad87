from kejiyun_match import STOPWORDS, Segmenter, char_bigrams


def test_a_domain_term_in_the_vocabulary_is_kept_whole() -> None:
    assert Segmenter().terms("平方和优化方法") == ["平方和", "优化"]
    assert Segmenter(["平方和优化"]).terms("平方和优化方法") == ["平方和优化"]


def test_vocabulary_is_normalised_and_single_characters_are_ignored() -> None:
    segmenter = Segmenter(["ＰＬＣ 控制", "茶", "平方和优化", "平方和优化"])
    assert segmenter.vocabulary == frozenset({"plc控制", "平方和优化"})
    assert segmenter.terms("PLC控制系统") == ["plc控制", "系统"]


def test_vocabulary_can_grow_after_construction() -> None:
    segmenter = Segmenter()
    segmenter.add_vocabulary(["平方和优化"])
    assert segmenter.vocabulary == frozenset({"平方和优化"})
    assert segmenter.terms("平方和优化方法") == ["平方和优化"]


def test_two_segmenters_do_not_share_a_dictionary() -> None:
    taught = Segmenter(["plc控制"])
    untaught = Segmenter()
    assert taught.terms("plc控制系统") == ["plc控制", "系统"]
    assert untaught.terms("plc控制系统") == ["plc", "控制系统"]
    assert untaught.vocabulary == frozenset()


def test_stopwords_research_boilerplate_and_punctuation_are_dropped() -> None:
    segmenter = Segmenter()
    assert segmenter.terms("研究了茶叶的加工方法。") == ["茶叶", "加工"]
    assert segmenter.terms("茶叶、白酒。《标准》") == ["茶叶", "白酒", "标准"]
    assert segmenter.terms("The design of PLC control systems") == [
        "design",
        "plc",
        "control",
        "systems",
    ]


def test_terms_are_normalised_and_repeats_are_kept() -> None:
    segmenter = Segmenter()
    assert segmenter.terms("Ｇ\u3000５ 通信 -- ___") == ["g", "5", "通信"]
    assert segmenter.terms("茶叶 茶叶") == ["茶叶", "茶叶"]
    assert segmenter.terms("") == []


def test_stopwords_hold_function_words_not_technical_terms() -> None:
    assert {"的", "研究", "方法", "the", "of"} <= STOPWORDS
    assert not {"茶叶", "白酒", "plc", "优化"} & STOPWORDS


def test_char_bigrams_overlap_within_each_run_of_word_characters() -> None:
    assert char_bigrams("平方和优化") == ["平方", "方和", "和优", "优化"]
    assert char_bigrams("ＡＩ芯片") == ["ai", "i芯", "芯片"]


def test_a_lone_character_between_separators_stays_as_itself() -> None:
    assert char_bigrams("茶 酒叶") == ["茶", "酒叶"]
    assert char_bigrams("a-b") == ["a", "b"]
    assert char_bigrams("") == []
