#!/usr/bin/env python3
"""Publish a demand and follow its case, using only the Kejiyun open API.

An enterprise user signs in (login and password; or pass a personal access token with
--token), creates a demand, submits it for review, then waits for the service centre to
accept it and follows its case: each step it reaches and each new line of its timeline is
printed as it happens. When the centre records the outcome and asks the enterprise to
confirm it, the script confirms with --rating (sending the case's ETag as If-Match), or
stops there without --rating. It ends when the case ends (closed, withdrawn, unsolvable)
or after --timeout seconds.

    python3 publish_and_follow.py --base-url https://kejiyun.example.cn \\
        --login erin --password '…' --rating 5

Standard library only. See kejiyun_client.py for sign-in and token refresh.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from kejiyun_client import ApiError, Client

ENDED = {"closed", "withdrawn", "unsolvable"}

SAMPLE_DEMAND: dict[str, Any] = {
    "title": "猕猴桃果园溃疡病绿色防控技术需求",
    "category": "problem",
    "industry": "水果种植",
    "region": "510104",
    "description": (
        "我公司种植红心猕猴桃800亩，近三年溃疡病发病率逐年上升，去年发病株率达到18%，"
        "减产约120吨。目前主要依靠铜制剂喷施防治，效果不稳定且造成土壤铜残留，"
        "希望引进生物防治与栽培管理相结合的综合防控技术。"
    ),
    "problem": "溃疡病发病株率达18%，每年减产约120吨",
    "current_state": "每年春秋两季喷施铜制剂四次，防效只有六成左右",
    "target_indicators": "三年内发病株率降到5%以下，农药用量减少30%",
    "budget": "5-20",
    "confidentiality": "public",
}


def say(text: str) -> None:
    print(text, flush=True)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="发布一条需求并跟踪其服务案例（科技云开放接口示例）"
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="平台地址")
    parser.add_argument("--login", help="企业用户的手机号或用户名")
    parser.add_argument("--password", help="密码")
    parser.add_argument("--token", help="个人访问令牌（代替登录）")
    parser.add_argument("--demand-file", help="需求内容（JSON），缺省为示例需求")
    parser.add_argument("--title", help="需求名称（覆盖文件或示例中的名称）")
    parser.add_argument("--rating", type=int, choices=range(1, 6), help="验收时的评分 1–5")
    parser.add_argument("--comment", default="", help="验收评价")
    parser.add_argument("--interval", type=float, default=10.0, help="轮询间隔（秒）")
    parser.add_argument("--timeout", type=float, default=3600.0, help="最长跟踪时间（秒）")
    args = parser.parse_args(argv)
    if not args.token and not (args.login and args.password):
        parser.error("请给出 --login 和 --password，或 --token")
    return args


def sign_in(args: argparse.Namespace) -> Client:
    client = Client(args.base_url, token=args.token or "")
    if not args.token:
        client.sign_in_with_password(args.login, args.password)
        say("已登录。")
    return client


def demand_body(args: argparse.Namespace) -> dict[str, Any]:
    body = dict(SAMPLE_DEMAND)
    if args.demand_file:
        with open(args.demand_file, encoding="utf-8") as handle:
            body.update(json.load(handle))
    if args.title:
        body["title"] = args.title
    return body


def publish(client: Client, body: dict[str, Any]) -> int | None:
    """Create the demand and submit it; its id, or None when the review sent it back."""
    demand = client.post("/demands/mine", body)
    say(f"已创建需求 #{demand['id']}《{demand['title']}》（{demand['status_label']}）。")
    # Every edit sends back the ETag of the version it read (If-Match): a demand someone
    # changed since is refused with 412 instead of being overwritten.
    _, etag = client.call_with_etag(f"/demands/mine/{demand['id']}")
    result = client.post(f"/demands/mine/{demand['id']}/submit", if_match=etag)
    if not result["submitted"]:
        say("需求不够具体，已被退回修改：")
        for problem in result["problems"]:
            say(f"  - {problem['field']}：{problem['message']}")
        return None
    say(f"已提交审核，需求 #{demand['id']} 等待服务中心受理。")
    for flag in result["flags"]:
        say(f"  审核提示：{flag}")
    return int(demand["id"])


class Follower:
    """Prints what changed since the last look: the demand's status, the case's step, new
    timeline lines."""

    def __init__(self, client: Client, demand_id: int) -> None:
        self.client = client
        self.demand_id = demand_id
        self.status = "submitted"
        self.step = ""
        self.seen: set[int] = set()
        self.confirm_sent = False
        self.changed = True  # something was printed since the last look

    def say(self, text: str) -> None:
        self.changed = True
        say(text)

    def demand_case(self) -> int | None:
        demand = self.client.get(f"/demands/mine/{self.demand_id}")
        if demand["status"] != self.status:
            self.status = demand["status"]
            self.say(f"需求状态：{demand['status_label']}")
            if demand["status"] == "returned":
                self.say(f"  退回原因：{demand['return_reasons']}")
        return demand["case_id"]

    def timeline(self, case_id: int) -> None:
        lines: list[dict[str, Any]] = []
        cursor = None
        while True:  # newest first, page by page, until a line already printed
            page = self.client.get(f"/cases/mine/{case_id}/timeline", cursor=cursor, limit=50)
            fresh = [e for e in page["items"] if e["id"] not in self.seen]
            lines.extend(fresh)
            cursor = page["next_cursor"]
            if not cursor or len(fresh) < len(page["items"]):
                break
        for event in sorted(lines, key=lambda e: e["id"]):
            self.seen.add(event["id"])
            move = ""
            if event["from_label"] or event["to_label"]:
                move = f"（{event['from_label'] or '—'} → {event['to_label'] or '—'}）"
            reason = f"：{event['reason']}" if event["reason"] else ""
            when = event["created_at"][:19]
            self.say(f"  [{when}] {event['kind_label']}{move} {event['actor']}{reason}")

    def case(self, case_id: int, rating: int | None, comment: str) -> str:
        case, etag = self.client.call_with_etag(f"/cases/mine/{case_id}")
        if case["step"] != self.step:
            self.step = case["step"]
            done = " → ".join(s["label"] for s in case["steps"][: case["step_index"] + 1])
            self.say(f"案例 #{case_id} 环节：{case['step_label']}（{done}）")
        self.timeline(case_id)
        if case["awaiting_confirmation"] and not self.confirm_sent:
            outcome = case["outcome_label"]
            extra = case["contract_number"] or case["outcome_reason"]
            self.say(f"服务中心已登记办理结果：{outcome}{('，' + extra) if extra else ''}。")
            if rating is None:
                self.say("请在平台上确认结果（或使用 --rating 由本脚本确认）。")
                return "stop"
            self.confirm_sent = True
            try:
                self.client.post(
                    f"/cases/mine/{case_id}/confirm",
                    {"rating": rating, "comment": comment},
                    if_match=etag,
                )
                self.say(f"已确认结果并评分 {rating}/5。")
            except ApiError as error:
                if error.status != 412:
                    raise
                self.confirm_sent = False  # the case moved meanwhile: look again
                self.say("案例刚有变化，重新读取后再确认。")
            return self.case(case_id, None, comment) if self.confirm_sent else "go"
        return "end" if case["step"] in ENDED else "go"


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    try:
        client = sign_in(args)
        demand_id = publish(client, demand_body(args))
        if demand_id is None:
            return 2
        follower = Follower(client, demand_id)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            if follower.changed:
                say(f"（每 {args.interval:g} 秒查看一次进展，按 Ctrl+C 退出）")
                follower.changed = False
            time.sleep(args.interval)
            case_id = follower.demand_case()
            if follower.status == "withdrawn":
                return 0
            if case_id is not None:
                outcome = follower.case(case_id, args.rating, args.comment)
                if outcome == "end":
                    say("案例已结束。")
                    return 0
                if outcome == "stop":
                    return 0
        say("跟踪超时，稍后可再次运行查看。")
        return 1
    except ApiError as error:
        say(f"接口拒绝了请求（{error.status}）：{error.detail}")
        return 3


if __name__ == "__main__":
    sys.exit(main())
