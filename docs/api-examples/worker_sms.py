#!/usr/bin/env python3
"""An S&T worker signs in by SMS code, lists the demands recommended to them and applies
for a docking on one, using only the Kejiyun open API.

    python3 worker_sms.py --base-url https://kejiyun.example.cn --mobile 13900000001
        (asks for the code, then prompts for it)
    python3 worker_sms.py --mobile 13900000001 --send-code       (only ask for the code)
    python3 worker_sms.py --mobile 13900000001 --code 123456     (sign in with it)
    python3 worker_sms.py --token kjy_p_…                        (a personal access token)

The first recommended demand is applied for unless --demand-id names another (one of the
list); --list-only applies for nothing. Standard library only; see kejiyun_client.py.
"""

from __future__ import annotations

import argparse
import sys

from kejiyun_client import ApiError, Client

DEFAULT_MESSAGE = "我长期从事相关领域的研究与技术推广，可提供现场诊断和技术方案。"


def say(text: str) -> None:
    print(text, flush=True)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="科技工作者短信登录、查看推荐需求并申请对接（示例）"
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="平台地址")
    parser.add_argument("--mobile", help="手机号（短信验证码登录）")
    parser.add_argument("--code", help="已收到的短信验证码")
    parser.add_argument("--send-code", action="store_true", help="只发送验证码，然后退出")
    parser.add_argument("--token", help="个人访问令牌（代替短信登录）")
    parser.add_argument("--demand-id", type=int, help="申请对接的需求编号（缺省为推荐的第一条）")
    parser.add_argument("--message", default=DEFAULT_MESSAGE, help="申请留言（10–500 字）")
    parser.add_argument("--list-only", action="store_true", help="只列出推荐需求，不申请")
    args = parser.parse_args(argv)
    if not args.token and not args.mobile:
        parser.error("请给出 --mobile（短信验证码登录）或 --token")
    return args


def sign_in(args: argparse.Namespace) -> Client | None:
    client = Client(args.base_url, token=args.token or "")
    if args.token:
        return client
    code = args.code
    if not code:
        client.request_sms_code(args.mobile)
        say(f"验证码已发送至 {args.mobile[:3]}****{args.mobile[-4:]}（已注册的号码才会收到）。")
        if args.send_code:
            return None
        code = input("请输入短信验证码：").strip()
    client.sign_in_with_sms_code(args.mobile, code)
    say("已登录。")
    return client


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    try:
        client = sign_in(args)
        if client is None:
            return 0
        items = client.get("/matches/recommended-demands")["items"]
        if not items:
            say("暂无为您推荐的需求，可到需求大厅查看。")
            return 0
        say("为您推荐的需求：")
        for number, row in enumerate(items, 1):
            terms = f" · 命中词：{row['matched_terms_label']}" if row["matched_terms_label"] else ""
            where = f"{row['region']['name']} · {row['category_label']}"
            say(
                f"{number}. #{row['demand_id']} {row['title']}"
                f"（{where} · 地域：{row['region_label']}{terms}）"
            )
        if args.list_only:
            return 0
        chosen = args.demand_id or items[0]["demand_id"]
        if chosen not in {row["demand_id"] for row in items}:
            say(f"需求 #{chosen} 不在推荐列表中。")
            return 2
        docking = client.post(
            "/dockings/applications", {"demand_id": chosen, "message": args.message}
        )
        say(
            f"已申请对接需求 #{chosen}（对接 #{docking['id']}，{docking['status_label']}），"
            "服务中心审核后会通知您。"
        )
        return 0
    except ApiError as error:
        say(f"接口拒绝了请求（{error.status}）：{error.detail}")
        return 3


if __name__ == "__main__":
    sys.exit(main())
