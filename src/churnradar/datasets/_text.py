"""Chinese text pools of the demo data: names, and complaint texts by reason category.

Pools are expanded once from templates; rows then take a pool entry by code, so no
string is formatted per row.
"""

from __future__ import annotations

import itertools
from functools import cache

SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡",
    "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
)
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛",
    "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "华", "玲", "志强", "海燕",
    "晓东", "婷",
)


@cache
def person_names() -> tuple[str, ...]:
    """Full names such as 王建华 (staff)."""
    return tuple(s + g for s, g in itertools.product(SURNAMES, GIVEN))


@cache
def masked_names() -> tuple[str, ...]:
    """Subscriber names as a CRM export masks them: 王*华."""
    return tuple(s + "*" + g[-1] for s, g in itertools.product(SURNAMES, GIVEN))


_FIRM_WORDS = (
    "恒通", "鑫达", "华盛", "宏远", "瑞丰", "金桥", "永泰", "博达", "新锐", "中联", "天诚", "汇丰",
    "嘉禾", "德信", "安泰", "晨光", "盛世", "广源", "聚力", "长城",
)


@cache
def company_names(cities: tuple[str, ...]) -> tuple[str, ...]:
    """Corporate subscribers: 杭州恒通科技有限公司."""
    kinds = ("科技有限公司", "贸易有限公司", "物流有限公司", "医院", "实业有限公司", "酒店")
    return tuple(c + w + k for c, w, k in itertools.product(cities, _FIRM_WORDS, kinds))


@cache
def dealer_names(segment: str, places: tuple[str, ...]) -> tuple[str, ...]:
    """Dealers such as 温州恒通五金经销部."""
    kinds = ("经销部", "商行", "批发部", "贸易有限公司", "经营部")
    return tuple(p + w + segment + k for p, w, k in itertools.product(places, _FIRM_WORDS, kinds))


def _expand(templates: tuple[str, ...], **fillers: tuple[str, ...]) -> tuple[str, ...]:
    """Every template with every combination of the fillers it uses."""
    out: list[str] = []
    for template in templates:
        names = [k for k in fillers if "{" + k + "}" in template]
        for combo in itertools.product(*(fillers[k] for k in names)):
            out.append(template.format(**dict(zip(names, combo, strict=True))))
    return tuple(out)


_TIMES = ("两", "三", "四", "五")
_DAYS = ("三", "五", "七", "十", "半个月")
_FEES = ("20", "30", "50", "68", "100")


@cache
def telecom_complaints() -> dict[str, tuple[str, ...]]:
    """Complaint texts of a telecom operator, by reason category."""
    return {
        "service": _expand(
            (
                "宽带网速太慢，报修{n}次都没人上门",
                "打了{n}次客服电话，问题一直没人解决",
                "营业厅工作人员态度很差，办个业务排队{n}个小时",
                "投诉之后说{d}天内回复，到现在都没人联系我",
                "在线客服一直是机器人回复，转人工要等很久",
                "装维师傅约好上门又放鸽子，白等了一天",
            ),
            n=_TIMES, d=_DAYS,
        ),
        "product": _expand(
            (
                "家里信号太差，{p}根本打不了电话",
                "5G信号时有时无，网速还不如4G",
                "宽带晚上经常掉线，{p}看视频一直卡",
                "光猫老是断网，重启也没用",
                "IPTV经常卡顿，节目也少",
            ),
            p=("卧室", "地下车库", "办公室", "电梯里"),
        ),
        "price": _expand(
            (
                "套餐太贵了，别家同样的流量便宜一半",
                "每月多出{f}元，资费太高要求降低",
                "流量超出后收费太高，一个月多交了{f}元",
                "老用户的资费比新用户还贵，不公平",
            ),
            f=_FEES,
        ),
        "benefit": _expand(
            (
                "合约到期后优惠取消，月费涨了{f}元",
                "积分兑换的礼品一直没有发",
                "承诺的宽带提速优惠没有兑现",
                "充值送的话费一直没到账",
            ),
            f=_FEES,
        ),
        "management": _expand(
            (
                "本月话费多扣了{f}元，没有任何说明",
                "莫名其妙被开通了增值业务，每月扣{f}元",
                "账单和实际使用不符，要求核查退费",
                "营业员说好的优惠，系统里查不到",
                "停机前没有任何提醒短信",
            ),
            f=_FEES,
        ),
        "industry": ("公司业务调整，专线用不上了，想问怎么办理拆机",),
        "natural": ("要搬家到外地了，宽带能不能迁移",),
    }


@cache
def dealer_complaints() -> dict[str, tuple[str, ...]]:
    """Complaint texts of dealers to their supplier, by reason category."""
    regions = ("华东", "华南", "华北", "华中", "西南")
    return {
        "benefit": _expand(
            (
                "去年的返利拖了{m}个月还没到账",
                "{r}那边的货窜到我们区域低价卖，我们根本卖不动",
                "窜货没人管，价格体系全乱了",
                "返利政策又改了，完不成任务就拿不到返利",
                "给新客户的支持比老经销商还多，不公平",
            ),
            m=("两", "三", "五"), r=regions,
        ),
        "management": _expand(
            (
                "发货又晚了{d}天，下游客户都跑了",
                "订的货经常缺货，催了几次都没回音",
                "账期突然缩短，资金周转不过来",
                "新政策门槛太高，一刀切不合理",
                "业务员离职后没人对接，下单都不知道找谁",
                "说好的促销支持没有兑现",
            ),
            d=_DAYS,
        ),
        "service": _expand(
            (
                "售后维修等了{d}天没人来",
                "退换货流程太慢，压了我们很多资金",
                "打客服电话一直没人接",
                "问题反映了{n}次都没人处理",
            ),
            d=_DAYS, n=_TIMES,
        ),
        "product": (
            "这批货质量有问题，客户退货很多",
            "新品太少，跟不上市场",
            "包装破损严重，没法上架",
            "同一型号前后两批质量差别很大",
        ),
        "price": _expand(
            (
                "出货价比竞品高{p}，没法卖",
                "今年又涨价了，利润太薄",
                "竞品给的价格低很多，我们压力很大",
            ),
            p=("一成", "两成", "百分之十五"),
        ),
        "industry": ("准备转行了，剩下的库存能不能退",),
        "natural": ("店面要拆迁了，想问合同怎么处理",),
    }
