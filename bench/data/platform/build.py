"""Build the platform matching set: demands.jsonl, experts.jsonl, truth.tsv, qrels.tsv.

Run from the repository root: `python bench/data/platform/build.py`. The output is fixed by
SEED and is committed; nothing reads this script at bench time. The relevance grades come from
the (field, sub) labels only, by `grade()` below (the rule is also written in
bench/data/SOURCE.md), never from any ranking.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE))

from demands_source import DEMANDS  # noqa: E402
from experts_source import NEGATIVE_FIELDS, NEGATIVES, SPECIALITIES  # noqa: E402

SEED = 20261207
MARKETING = "营销"

# How many workers of each kind the set holds.
PER_SPECIALITY = (5, 8)  # field specialists, by (field, sub): drawn in this range
PER_MARKETING = (2, 4)  # marketing people of a producing field (泡菜营销, 白酒营销 …)
PER_GENERALIST = (3, 5)  # 食品, 植保, 环保, 营销通用, 材料通用
PER_NEGATIVE = {
    ("监管", "市场监管"): 28,
    ("管理", "企业管理"): 30,
    ("管理", "政务"): 14,
    ("服务", "知识产权财税"): 12,
    ("其他", "医疗"): 8,
    ("其他", "土木"): 8,
    ("其他", "教育"): 6,
}
GENERALIST_FIELDS = frozenset({"食品", "植保", "环保", "营销通用", "材料通用"})

# Related specialities, graded for a demand's (field, sub): the generalist whose speciality is
# exactly the demand's problem gets 2, a neighbouring industry's specialist 1.
NEAR: dict[tuple[str, str], dict[tuple[str, str], int]] = {
    ("泡菜", "发酵"): {("食品", "发酵"): 2, ("白酒", "酿造"): 1},
    ("泡菜", "包装"): {("食品", "杀菌包装"): 2, ("竹产业", "竹笋"): 1},
    ("泡菜", "废水"): {("环保", "废水"): 2},
    ("白酒", "酿造"): {("食品", "发酵"): 1, ("泡菜", "发酵"): 1},
    ("白酒", "品质"): {("食品", "检测"): 1},
    ("白酒", "丢糟"): {("环保", "固废"): 2, ("生猪", "养殖"): 1},
    ("茶叶", "种植"): {("植保", "虫害防控"): 2, ("植保", "果树病害"): 1, ("植保", "土壤肥料"): 1},
    ("茶叶", "加工"): {("农机", "烘干"): 1, ("食品", "干燥"): 1},
    ("猕猴桃", "病害"): {("植保", "果树病害"): 2},
    ("猕猴桃", "采后"): {("食品", "贮藏保鲜"): 2, ("柑橘", "采后"): 1},
    ("猕猴桃", "栽培"): {("柑橘", "栽培"): 1, ("植保", "土壤肥料"): 1},
    ("柑橘", "栽培"): {("植保", "土壤肥料"): 2, ("猕猴桃", "栽培"): 1},
    ("柑橘", "采后"): {("食品", "贮藏保鲜"): 2, ("猕猴桃", "采后"): 1},
    ("柑橘", "病虫害"): {("植保", "果树病害"): 2, ("植保", "虫害防控"): 2},
    ("生猪", "粪污"): {("环保", "固废"): 2, ("环保", "废水"): 1},
    ("中药材", "种植"): {("植保", "果树病害"): 1, ("植保", "土壤肥料"): 1},
    ("中药材", "质量"): {("食品", "检测"): 1, ("食品", "干燥"): 1},
    ("天然气", "开采"): {("环保", "废水"): 1},
    ("天然气", "安全"): {("电子信息", "嵌入式"): 1},
    ("钒钛", "冶炼"): {("材料通用", "冶金"): 2},
    ("钒钛", "尾渣"): {("环保", "固废"): 2, ("材料通用", "冶金"): 1},
    ("钒钛", "材料"): {("材料通用", "冶金"): 2, ("光伏锂电", "电池"): 1, ("装备制造", "材料"): 1},
    ("电子信息", "视觉"): {("装备制造", "自动化"): 1},
    ("电子信息", "软件"): {("装备制造", "自动化"): 1},
    ("装备制造", "焊接"): {("材料通用", "冶金"): 1},
    ("装备制造", "自动化"): {("电子信息", "视觉"): 1, ("电子信息", "软件"): 1},
    ("装备制造", "材料"): {("材料通用", "冶金"): 2, ("钒钛", "材料"): 1},
    ("文旅", "智慧"): {("电子信息", "软件"): 1},
    ("食用菌", "加工"): {("食品", "干燥"): 2, ("食品", "杀菌包装"): 1},
    ("水产", "加工"): {("食品", "贮藏保鲜"): 1},
    ("竹产业", "竹笋"): {("食品", "杀菌包装"): 2, ("泡菜", "包装"): 1},
    ("竹产业", "竹浆"): {("环保", "废水"): 1},
    ("光伏锂电", "锂电材料"): {("材料通用", "冶金"): 1},
    ("光伏锂电", "电池"): {("钒钛", "材料"): 1},
    ("农机", "植保无人机"): {("植保", "虫害防控"): 1},
    ("农机", "烘干"): {("食品", "干燥"): 1},
    ("油菜", "加工"): {("食品", "油脂"): 2, ("食品", "检测"): 1},
    ("花椒", "栽培"): {("植保", "果树病害"): 1},
    ("花椒", "加工"): {("食品", "干燥"): 2, ("食品", "油脂"): 1},
}


def grade(demand: tuple[str, str], expert: tuple[str, str]) -> int:
    """Relevance 0-3 of an expert labelled `expert` for a demand labelled `demand`.

    3: same field and same sub-specialty (a 泡菜 packaging specialist for a 胀袋 demand).
    2: the generalist whose speciality is exactly the demand's problem (食品杀菌包装 for 胀袋),
       or, for a marketing demand, a general marketing expert.
    1: same field, another technical sub-specialty; a neighbouring industry's specialist listed
       in NEAR; for a marketing demand, another field's marketing person.
    0: everything else — regulators, managers, service providers, other fields, and marketing
       people of the same field for a technical demand (and technical people for a marketing one).
    """
    d_field, d_sub = demand
    e_field, e_sub = expert
    if e_field in NEGATIVE_FIELDS:
        return 0
    if demand == expert:
        return 3
    if d_sub == MARKETING or e_sub == MARKETING:
        if d_sub != MARKETING or e_sub != MARKETING:
            return 0
        if e_field == "营销通用":
            return 2
        return 1
    near = NEAR.get(demand, {}).get(expert)
    if near is not None:
        return near
    if e_field == d_field:
        return 1
    return 0


# ---- names, phones, wording -------------------------------------------------------------

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范廖石金贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严欧"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建红飞鑫波斌宇浩凯健俊帆帅旭宁"
    "琳雪峰晨阳晓林蓉川蜀渝成文武志国新春秋冬海江山云松柏梅竹菊兴旺德福康安定远"
)

ACADEMIC_TITLES = ("教授", "副教授", "副教授", "讲师", "研究员", "副研究员", "博士")
RESEARCH_TITLES = ("研究员", "副研究员", "副研究员", "助理研究员", "高级工程师", "正高级工程师")
EXTENSION_TITLES = ("高级农艺师", "农艺师", "推广研究员", "高级畜牧师", "助理农艺师", "站长")
ENTERPRISE_TITLES = ("高级工程师", "工程师", "技术总监", "总工程师", "技术部经理", "")
OFFICIAL_TITLES = ("科长", "副局长", "四级主任科员", "一级科员", "所长", "")
MARKETING_TITLES = ("营销总监", "销售经理", "秘书长", "经济师", "高级经济师", "")

OPENERS = (
    "本人长期从事{field}方面的研究和技术推广工作。",
    "从事{field}工作{years}年，",
    "主要研究方向：{field}。",
    "{field}方向，",
    "",
    "",
    "本人在{org}工作，主要做{field}。",
    "多年在一线从事{field}，",
)
CAPABILITY_SENTENCES = (
    "能够{cap}。",
    "可为企业{cap}。",
    "主持或参与过{cap}相关项目{n}项。",
    "擅长{cap}。",
    "近年来重点{cap}。",
    "曾在{place}{cap}，效果较好。",
    "{cap}；",
)
CLOSERS = (
    "可提供现场指导和技术培训。",
    "欢迎企业联系合作。",
    "",
    "愿意为基层企业和合作社提供咨询服务。",
    "可带研究生团队驻企服务。",
    "有意向可电话联系。",
    "",
)
PLACES = (
    "眉山",
    "宜宾",
    "泸州",
    "雅安",
    "绵阳",
    "德阳",
    "攀枝花",
    "南充",
    "达州",
    "乐山",
    "凉山",
    "省内多地",
)
SERVICE_MODES = ("咨询", "培训", "联合研发", "成果转化", "现场指导")


def options(value: str) -> list[str]:
    return [part for part in value.split("|") if part]


def title_for(rng: random.Random, org: str, field: str, sub: str) -> str:
    if field == "监管":
        return rng.choice(OFFICIAL_TITLES)
    if sub == MARKETING and field != "文旅":
        return rng.choice(MARKETING_TITLES)
    if "大学" in org or "学院" in org:
        return rng.choice(ACADEMIC_TITLES)
    if any(word in org for word in ("研究院", "研究所", "科学院", "科研所", "设计院")):
        return rng.choice(RESEARCH_TITLES)
    if any(word in org for word in ("局", "站", "中心", "协会", "联盟", "商会")):
        return rng.choice(
            EXTENSION_TITLES if field not in ("管理", "服务", "其他") else OFFICIAL_TITLES
        )
    return rng.choice(ENTERPRISE_TITLES)


def load_names(path: Path) -> set[str]:
    with path.open(encoding="utf-8") as fh:
        return {row["name"].strip() for row in csv.DictReader(fh)}


class Generator:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not security
        self.names: set[str] = set()
        self.mobiles: set[str] = set()
        data = ROOT / "kejiyun" / "talent" / "data"
        self.disciplines = load_names(data / "nsfc_application_codes_2019.csv")
        self.industries = load_names(data / "gbt4754_2017_industry.csv")
        self.unknown: set[str] = set()

    def name(self) -> str:
        while True:
            given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
            name = self.rng.choice(SURNAMES) + given
            if name not in self.names:
                self.names.add(name)
                return name

    def mobile(self) -> str:
        while True:
            mobile = self.rng.choice(("138", "139", "135", "158", "180", "189", "177")) + "".join(
                self.rng.choice("0123456789") for _ in range(8)
            )
            if mobile not in self.mobiles:
                self.mobiles.add(mobile)
                return mobile

    def classified(self, value: str, known: set[str], share: float) -> list[str]:
        """The classification names a worker picks: some pick none, most one or two."""
        picks = options(value)
        for pick in picks:
            if pick not in known:
                self.unknown.add(pick)
        picks = [p for p in picks if p in known]
        if not picks or self.rng.random() > share:
            return []
        return self.rng.sample(picks, k=min(len(picks), self.rng.choice((1, 1, 2))))

    def expert(self, field: str, sub: str, block: dict[str, str]) -> dict[str, object]:
        rng = self.rng
        org, county = rng.choice(options(block["org"])).split("@")
        field_phrases = options(block["fields"])
        fields = "、".join(
            rng.sample(field_phrases, k=min(len(field_phrases), rng.choice((1, 2, 2, 3))))
        )
        kw_pool = options(block["kw"])
        keywords = (
            "、".join(rng.sample(kw_pool, k=min(len(kw_pool), rng.randint(3, 6))))
            if rng.random() < 0.85
            else ""
        )
        caps = options(block["cap"])
        chosen = rng.sample(caps, k=min(len(caps), rng.choice((1, 2, 2, 3))))
        parts = [
            rng.choice(OPENERS).format(
                field=rng.choice(field_phrases), years=rng.randint(5, 30), org=org
            )
        ]
        for cap in chosen:
            parts.append(
                rng.choice(CAPABILITY_SENTENCES).format(
                    cap=cap, n=rng.randint(2, 12), place=rng.choice(PLACES)
                )
            )
        parts.append(rng.choice(CLOSERS))
        capability = "".join(parts).rstrip("；，")
        if capability and not capability.endswith("。"):
            capability += "。"
        if rng.random() < 0.08:  # a paper form with the capability box left empty
            capability = ""
        modes = [m for m in SERVICE_MODES if rng.random() < 0.45] or [rng.choice(SERVICE_MODES)]
        return {
            "name": self.name(),
            "mobile": self.mobile(),
            "organisation": org,
            "title": title_for(rng, org, field, sub),
            "region": county,
            "fields": fields,
            "keywords": keywords,
            "capability": capability,
            "disciplines": self.classified(block.get("disc", ""), self.disciplines, 0.7),
            "industries": self.classified(block.get("ind", ""), self.industries, 0.6),
            "service_modes": modes,
            "_label": (field, sub),
        }

    def experts(self) -> list[dict[str, object]]:
        people: list[dict[str, object]] = []
        for (field, sub), block in SPECIALITIES.items():
            if field in GENERALIST_FIELDS:
                count = self.rng.randint(*PER_GENERALIST)
            elif sub == MARKETING and field != "文旅":
                count = self.rng.randint(*PER_MARKETING)
            else:
                count = self.rng.randint(*PER_SPECIALITY)
            people.extend(self.expert(field, sub, block) for _ in range(count))
        for (field, sub), block in NEGATIVES.items():
            people.extend(self.expert(field, sub, block) for _ in range(PER_NEGATIVE[(field, sub)]))
        self.rng.shuffle(people)
        for number, person in enumerate(people, start=1):
            person["id"] = f"e{number:04d}"
        return people


def demand_rows() -> list[dict[str, str]]:
    rows = []
    for number, d in enumerate(DEMANDS, start=1):
        rows.append(
            {
                "id": f"d{number:03d}",
                "organisation": d["o"],
                "region": d["r"],
                "title": d["t"],
                "category": d["c"],
                "industry": d["i"],
                "budget": d["b"],
                "description": d["d"],
                "problem": d["p"],
                "current_state": d["s"],
                "target_indicators": d["g"],
                "_label": (d["f"], d["u"]),
            }
        )
    return rows


def main() -> int:
    regions = {
        row["code"]: row["name"]
        for row in csv.DictReader(
            (ROOT / "kejiyun" / "regions" / "data" / "regions.csv").open(encoding="utf-8")
        )
        if row["code"].startswith("51") and row["level"] == "county"
    }
    demands = demand_rows()
    generator = Generator()
    experts = generator.experts()
    labels = set(SPECIALITIES) | set(NEGATIVES)
    problems = [d["id"] for d in demands if d["_label"] not in labels]
    problems += [r["id"] for r in demands + experts if r["region"] not in regions]  # type: ignore[operator]
    problems += [d["id"] for d in demands if d["industry"] not in generator.industries]
    if problems or generator.unknown:
        print("bad labels/regions:", problems, "unknown classification names:", generator.unknown)
        return 1
    with (HERE / "demands.jsonl").open("w", encoding="utf-8") as fh:
        for d in demands:
            row = {k: v for k, v in d.items() if not k.startswith("_")}
            row["region_name"] = regions[d["region"]]
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (HERE / "experts.jsonl").open("w", encoding="utf-8") as fh:
        for e in experts:
            row = {"id": e["id"], **{k: v for k, v in e.items() if k not in ("id", "_label")}}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    with (HERE / "truth.tsv").open("w", encoding="utf-8") as fh:
        for r in demands + experts:
            field, sub = r["_label"]  # type: ignore[misc]
            fh.write(f"{r['id']}\t{field}\t{sub}\n")
    counts = {0: 0, 1: 0, 2: 0, 3: 0}
    with (HERE / "qrels.tsv").open("w", encoding="utf-8") as fh:
        for d in demands:
            for e in experts:
                g = grade(d["_label"], e["_label"])  # type: ignore[arg-type]
                if g:
                    counts[g] += 1
                    fh.write(f"{d['id']}\t{e['id']}\t{g}\n")
    print(f"{len(demands)} demands, {len(experts)} experts, graded pairs by grade: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
