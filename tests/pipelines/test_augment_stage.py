"""The transfer set: labelled rows, augmented copies of the train split only, unlabelled texts with
every line accounted for, in bounded partitions built only when saved."""

from types import SimpleNamespace

import pandas as pd
import pytest

from text_distill.distill.data.text import normalise_text, segment_chars, segment_words, text_hash
from text_distill.pipelines.augment.nodes import build_transfer_set
from text_distill.pipelines.augment.pipeline import NEWS_SOURCES, create_pipeline

PARAMS = {
    "n_iter": 3,
    "budget_n_iter": None,
    "p_mask": 0.2,
    "p_pos": 0.2,
    "p_ng": 0.25,
    "ngram_range": [1, 3],
    "seed": 0,
    "chunk_rows": 10,
    "unlabelled": {"max_rows": 0, "format": "labelled", "news": {"inews": 0, "peoples_daily": 0}},
}
EVERY_LABEL = {"label_budget": None}  # the split report of a run without a label budget
TEACHER = SimpleNamespace(tokenizer=SimpleNamespace(mask_token="[MASK]", unk_token="[UNK]"))


@pytest.fixture
def corpus(thucnews_lines):
    lines = thucnews_lines[:60]
    examples = pd.DataFrame(
        {
            "example_id": range(60),
            "split": ["train"] * 40 + ["dev"] * 10 + ["test"] * 10,
            "text": [normalise_text(line.split("\t", 1)[1]) for line in lines],
        }
    )
    examples["text_hash"] = examples["text"].map(text_hash)
    segmented = examples[["example_id", "split"]].assign(
        words=examples["text"].map(segment_words), chars=examples["text"].map(segment_chars)
    )
    return examples, segmented, lines


def apart(examples):
    """The augment stage's inputs: the train and dev rows, and the test texts' hashes alone."""
    test = examples["split"] == "test"
    return examples[~test], examples.loc[test, ["text_hash"]]


def built(partitions):
    return pd.concat([build() for _, build in sorted(partitions.items())], ignore_index=True)


def test_labelled_rows_then_augmented_copies_of_train_only(corpus):
    examples, segmented, _ = corpus
    partitions, report = build_transfer_set(*apart(examples), segmented, "", TEACHER, EVERY_LABEL, PARAMS)
    assert all(callable(build) for build in partitions.values())  # nothing built until saved
    frames = [build() for _, build in sorted(partitions.items())]
    assert max(len(frame) for frame in frames) <= PARAMS["chunk_rows"]
    table = pd.concat(frames, ignore_index=True)
    labelled = table[table["source"] == "labelled"]
    # the train and dev rows; the test rows are labelled where they are scored
    assert labelled["teacher_text"].tolist() == examples.loc[examples["split"] != "test", "text"].tolist()
    augmented = table[table["source"] == "augmented"]
    train_ids = set(examples.loc[examples["split"] == "train", "example_id"])
    assert set(augmented["origin_id"]) <= train_ids and len(set(augmented["origin_id"])) > 30
    assert 40 < len(augmented) <= 40 * 3 == report["max_augmented_rows"]
    assert augmented["teacher_text"].str.contains("[MASK]", regex=False).any()
    held_out = set(examples.loc[examples["split"] != "train", "text"])
    assert not set(augmented["teacher_text"]) & held_out
    assert report["teacher_mask_token"] == "[MASK]"
    again = built(build_transfer_set(*apart(examples), segmented, "", TEACHER, EVERY_LABEL, PARAMS)[0])
    pd.testing.assert_frame_equal(again, table)  # seeded: the same transfer set every run


def test_a_label_budget_draws_its_own_number_of_copies(corpus):
    """The copies are a few-labels default: ``budget_n_iter`` under a label budget, ``n_iter`` with
    every label, and ``n_iter`` at a budget too where ``budget_n_iter`` is null."""
    examples, segmented, _ = corpus
    params = {**PARAMS, "n_iter": 0, "budget_n_iter": 2}

    def copies(split_report, settings=params):
        partitions, report = build_transfer_set(
            *apart(examples), segmented, "", TEACHER, split_report, settings
        )
        table = built(partitions)
        return report, table.loc[table["source"] == "augmented", "origin_id"].value_counts()

    report, per_row = copies(EVERY_LABEL)
    assert per_row.empty and report["n_iter_from"] == "augment.n_iter" and report["augment"]["n_iter"] == 0
    report, per_row = copies({"label_budget": 40})
    assert report["n_iter_from"] == "augment.budget_n_iter" and report["label_budget"] == 40
    assert report["augmented_from_train_rows"] == 40 and per_row.max() == 2 and len(per_row) > 30
    report, per_row = copies({"label_budget": 40}, {**params, "budget_n_iter": None})
    assert per_row.empty and report["n_iter_from"] == "augment.n_iter"


def test_copies_draw_words_from_train_and_unlabelled_texts_never_dev(corpus):
    """A label budget's over-budget rows (split ``unlabelled``) lend their words to the copies, as
    they do to the students' vocabularies; dev and test words are never drawn."""
    examples, segmented, _ = corpus
    unlabelled = examples.index.isin(range(30, 40))
    examples = examples.assign(split=examples["split"].where(~unlabelled, "unlabelled"))
    segmented = segmented.assign(split=examples["split"])
    params = {**PARAMS, "n_iter": 8, "p_mask": 0.0, "p_pos": 1.0, "p_ng": 0.0}
    table = built(build_transfer_set(*apart(examples), segmented, "", TEACHER, EVERY_LABEL, params)[0])
    drawn = {word for words in table.loc[table["source"] == "augmented", "words"] for word in words}
    words_of = lambda rows: {word for words in segmented.loc[rows, "words"] for word in words}  # noqa: E731
    train, held_out = (
        words_of(segmented["split"] == "train"),
        words_of(segmented["split"].isin(["dev", "test"])),
    )
    assert drawn & (words_of(unlabelled) - train)
    assert not drawn & (held_out - train - words_of(unlabelled))


def test_unlabelled_lines_are_all_accounted_for(corpus):
    examples, segmented, lines = corpus
    extra = [
        "sports\t" + examples["text"][0],  # a train text
        "sports\t" + examples["text"][55],  # a test text: would leak
        "sports\t  ",
        "no tab at all",
        "sports\tbad \udcff byte",
        "sports\t全新的标题一",
        "sports\t全新的标题一",
        "sports\t全新的标题二",
        "sports\t全新的标题三",
    ]
    params = {**PARAMS, "n_iter": 0, "unlabelled": {**PARAMS["unlabelled"], "max_rows": 2}}
    partitions, report = build_transfer_set(
        *apart(examples), segmented, "\n".join(extra), TEACHER, EVERY_LABEL, params
    )
    assert report["unlabelled"] == {
        "lines": 9,
        "undecodable": 1,
        "malformed": 1,
        "empty": 1,
        "duplicates": 1,
        "equal_to_train": 1,
        "equal_to_dev_or_test": 1,
        "over_max_rows": 1,
        "kept": 2,
    }
    table = built(partitions)
    unlabelled = table[table["source"] == "unlabelled"]
    assert unlabelled["teacher_text"].tolist() == ["全新的标题一", "全新的标题二"]
    assert unlabelled["words"].map(list).tolist() == [
        segment_words("全新的标题一"),
        segment_words("全新的标题二"),
    ]
    assert set(unlabelled["origin_id"]) == {-1}
    lines_params = {**params, "unlabelled": {**params["unlabelled"], "max_rows": 5, "format": "lines"}}
    _, report = build_transfer_set(
        *apart(examples), segmented, "一条新闻\n两条新闻", TEACHER, EVERY_LABEL, lines_params
    )
    assert report["unlabelled"]["kept"] == 2


def never_read() -> list[str]:
    raise AssertionError("a news source whose cap is 0 was read")


def test_packaged_news_joins_as_unlabelled_text_with_counts_under_its_name(corpus):
    """Through the stage's node as wired (the news catalog entries by their cap's name): each source up
    to its cap, under the unlabelled corpus's rules (an "unlabelled" split text counts as train);
    partitions named after the source, rows of source "unlabelled"; a source at 0 is never read."""
    examples, segmented, _ = corpus
    examples = examples.assign(split=examples["split"].where(examples.index != 1, "unlabelled"))
    inews = [
        "全新的新闻标题一",
        examples["text"][0],  # a train text
        examples["text"][1],  # a text of the unlabelled split: the student's already
        examples["text"][52],  # a dev text: would leak
        "语料里已有的一句",  # kept from the unlabelled corpus before
        "全新的新闻标题二",
        "全新的新闻标题三",
    ]
    peoples_daily = ["全新的新闻标题二", "人民日报的一句话"]  # the first: inews kept it
    params = {
        **PARAMS,
        "n_iter": 0,
        "unlabelled": {"max_rows": 5, "format": "lines", "news": {"inews": 2, "peoples_daily": 10}},
    }
    (node,) = create_pipeline().nodes
    assert set(NEWS_SOURCES.values()) <= set(node.inputs)
    train_dev, test_hashes = apart(examples)
    outputs = node.run(
        {
            "train_dev_examples": train_dev,
            "test_text_hashes": test_hashes,
            "segmented_examples": segmented,
            "unlabelled_corpus": "语料里已有的一句",
            "split_report": EVERY_LABEL,
            "teacher_base": TEACHER,
            "params:augment": params,
            "news_inews": lambda: inews,
            "news_peoples_daily": lambda: peoples_daily,
        }
    )
    partitions, report = outputs["transfer_set"], outputs["transfer_set_report"]
    outcome = dict.fromkeys(["texts", "empty", "duplicates", "equal_to_train", "equal_to_dev_or_test"], 0)
    assert report["news"] == {
        "inews": {**outcome, "texts": 7, "duplicates": 1, "equal_to_train": 2, "equal_to_dev_or_test": 1}
        | {"over_max_rows": 1, "kept": 2},
        "peoples_daily": {**outcome, "texts": 2, "duplicates": 1, "over_max_rows": 0, "kept": 1},
    }
    assert report["unlabelled"]["kept"] == 1
    assert [name.split("-", 1)[1] for name in sorted(partitions)][-3:] == [
        "unlabelled",
        "inews",
        "peoples_daily",
    ]
    table = built(partitions)
    unlabelled = table[table["source"] == "unlabelled"]
    assert unlabelled["teacher_text"].tolist() == [
        "语料里已有的一句",
        "全新的新闻标题一",
        "全新的新闻标题二",
        "人民日报的一句话",
    ]
    assert set(unlabelled["origin_id"]) == {-1} and unlabelled["words"].map(len).min() > 0

    off = {**params, "unlabelled": {**params["unlabelled"], "news": {"inews": 0, "peoples_daily": 0}}}
    partitions, report = build_transfer_set(
        *apart(examples), segmented, "", TEACHER, EVERY_LABEL, off, inews=never_read, peoples_daily=never_read
    )
    assert report["news"]["inews"] == dict.fromkeys(report["news"]["inews"], 0)
    assert not any(name.endswith(("inews", "peoples_daily")) for name in partitions)
    typo = {**params, "unlabelled": {**params["unlabelled"], "news": {"inew": 5}}}
    with pytest.raises(ValueError, match=r"names \['inew'\], which are not news sources"):
        build_transfer_set(*apart(examples), segmented, "", TEACHER, EVERY_LABEL, typo, inews=never_read)
