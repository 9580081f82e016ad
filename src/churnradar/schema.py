"""The vocabulary of churnradar: table names, column names and table contracts.

Every module refers to columns through these constants, and the importer validates
every incoming table against :data:`CONTRACTS` (design.md, "Input tables").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# --- column names -------------------------------------------------------------------
CUSTOMER_ID = "customer_id"
NAME = "name"
SIGNUP_DATE = "signup_date"
GRADE = "grade"
IS_KEY_ACCOUNT = "is_key_account"
SEGMENT = "segment"
REGION = "region"
CHANNEL = "channel"
OWNER_ID = "owner_id"
MARGIN_RATE = "margin_rate"

PRODUCT = "product"
START_DATE = "start_date"
END_DATE = "end_date"
AMOUNT_PER_MONTH = "amount_per_month"
CANCEL_REASON = "cancel_reason"
CANCEL_KIND = "cancel_kind"

TRANSACTION_ID = "transaction_id"
DATE = "date"
AMOUNT = "amount"
MARGIN = "margin"

TIME = "time"
EVENT_TYPE = "event_type"
VALUE = "value"

COMPLAINT_ID = "complaint_id"
TEXT = "text"
CATEGORY = "category"
RESOLVED_AT = "resolved_at"

SCORE = "score"
KIND = "kind"

CHURN_DATE = "churn_date"
REASON_CATEGORY = "reason_category"
CHURN_TYPE = "churn_type"
NOTE = "note"

HIRED_AT = "hired_at"
LEFT_AT = "left_at"
ACTION = "action"
GROUP = "group"
OUTCOME = "outcome"

# --- closed vocabularies (domain.md §3) ----------------------------------------------
REASON_CATEGORIES: tuple[str, ...] = (
    "product", "price", "service", "benefit", "management", "industry", "natural",
)
CHURN_TYPES: tuple[str, ...] = (
    # active churn (主动流失)
    "natural", "competitive", "fault",
    # passive churn (被动流失)
    "non_malicious", "retaliatory", "malicious",
)
CANCEL_KINDS: tuple[str, ...] = ("voluntary", "involuntary")
#: retention_actions.group: contacted by the plan, or held back as its control group
ACTION_GROUPS: tuple[str, ...] = ("treatment", "control")
#: retention_actions.outcome (the task statuses of the retention workbench)
OUTCOMES: tuple[str, ...] = ("open", "contacted", "retained", "lost", "not_reachable")
SURVEY_KINDS: tuple[str, ...] = ("CSAT", "NPS")

# Accepted spellings of the closed vocabularies (lower-cased source value -> canonical).
ENUM_ALIASES: dict[str, dict[str, str]] = {
    REASON_CATEGORY: {
        **{v: v for v in REASON_CATEGORIES},
        "other": "natural",
        "产品": "product", "产品流失": "product",
        "价格": "price", "价格流失": "price",
        "服务": "service", "服务流失": "service",
        "利益": "benefit", "利益流失": "benefit",
        "管理": "management", "管理流失": "management",
        "行业": "industry", "行业流失": "industry",
        "自然": "natural", "自然流失": "natural", "其他": "natural",
    },
    CHURN_TYPE: {
        **{v: v for v in CHURN_TYPES},
        "non-malicious": "non_malicious",
        "自然流失": "natural", "自然": "natural",
        "竞争流失": "competitive", "竞争": "competitive",
        "过失流失": "fault", "过失": "fault",
        "非恶意": "non_malicious", "非恶意流失": "non_malicious",
        "报复性": "retaliatory", "报复性流失": "retaliatory",
        "恶意": "malicious", "恶意流失": "malicious",
    },
    CANCEL_KIND: {
        "voluntary": "voluntary", "involuntary": "involuntary",
        "自愿": "voluntary", "主动": "voluntary",
        "非自愿": "involuntary", "被动": "involuntary",
    },
    KIND: {"csat": "CSAT", "nps": "NPS"},
    GROUP: {"treatment": "treatment", "control": "control", "处理组": "treatment",
            "干预组": "treatment", "对照组": "control", "控制组": "control"},
    OUTCOME: {
        **{v: v for v in OUTCOMES}, "not reachable": "not_reachable",
        "待处理": "open", "已联系": "contacted", "已挽留": "retained", "挽留成功": "retained",
        "已流失": "lost", "挽留失败": "lost", "联系不上": "not_reachable",
        "无法联系": "not_reachable",
    },
}

TABLES: tuple[str, ...] = (
    "customers", "subscriptions", "transactions", "events",
    "complaints", "surveys", "churn_records", "staff", "retention_actions",
)
TableName = Literal[
    "customers", "subscriptions", "transactions", "events",
    "complaints", "surveys", "churn_records", "staff", "retention_actions",
]

ColumnKind = Literal["id", "string", "date", "timestamp", "float", "bool", "enum"]


@dataclass(frozen=True)
class Column:
    """One column of a table contract.

    ``kind`` decides how text is parsed; ``nonnegative`` refuses negative numbers;
    ``required`` columns must exist and be non-empty in every row.
    """

    name: str
    kind: ColumnKind
    required: bool = False
    nonnegative: bool = False
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Contract:
    """The contract of one input table."""

    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    #: a key used only when all its columns are present in the file
    optional_key: tuple[str, ...] = ()
    #: (earlier, later) date pairs that must be ordered when both are present
    ordered: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None


CONTRACTS: dict[str, Contract] = {
    "customers": Contract(
        "customers",
        (
            Column(CUSTOMER_ID, "id", required=True),
            Column(NAME, "string"),
            Column(SIGNUP_DATE, "date"),
            Column(GRADE, "string"),
            Column(IS_KEY_ACCOUNT, "bool"),
            Column(SEGMENT, "string"),
            Column(REGION, "string"),
            Column(CHANNEL, "string"),
            Column(OWNER_ID, "id"),
            Column(MARGIN_RATE, "float", low=-1.0, high=1.0),
        ),
        key=(CUSTOMER_ID,),
    ),
    "subscriptions": Contract(
        "subscriptions",
        (
            Column(CUSTOMER_ID, "id", required=True),
            Column(PRODUCT, "string"),
            Column(START_DATE, "date", required=True),
            Column(END_DATE, "date"),
            Column(AMOUNT_PER_MONTH, "float", nonnegative=True),
            Column(CANCEL_REASON, "string"),
            Column(CANCEL_KIND, "enum"),
        ),
        key=(CUSTOMER_ID, PRODUCT, START_DATE),
        ordered=((START_DATE, END_DATE),),
    ),
    "transactions": Contract(
        "transactions",
        (
            Column(CUSTOMER_ID, "id", required=True),
            Column(TRANSACTION_ID, "id"),
            Column(DATE, "date", required=True),
            Column(AMOUNT, "float", required=True, nonnegative=True),
            Column(MARGIN, "float"),
            Column(PRODUCT, "string"),
        ),
        optional_key=(TRANSACTION_ID,),
    ),
    "events": Contract(
        "events",
        (
            Column(CUSTOMER_ID, "id", required=True),
            Column(TIME, "timestamp", required=True),
            Column(EVENT_TYPE, "string", required=True),
            Column(VALUE, "float"),
        ),
    ),
    "complaints": Contract(
        "complaints",
        (
            Column(CUSTOMER_ID, "id", required=True),
            Column(COMPLAINT_ID, "id"),
            Column(TIME, "timestamp", required=True),
            Column(CHANNEL, "string"),
            Column(TEXT, "string"),
            Column(CATEGORY, "enum"),
            Column(RESOLVED_AT, "timestamp"),
        ),
        optional_key=(COMPLAINT_ID,),
        ordered=((TIME, RESOLVED_AT),),
    ),
    "surveys": Contract(
        "surveys",
        (
            Column(CUSTOMER_ID, "id", required=True),
            Column(TIME, "timestamp", required=True),
            Column(SCORE, "float", required=True),
            Column(KIND, "enum", required=True),
        ),
    ),
    "churn_records": Contract(
        "churn_records",
        (
            Column(CUSTOMER_ID, "id", required=True),
            Column(CHURN_DATE, "date", required=True),
            Column(REASON_CATEGORY, "enum"),
            Column(CHURN_TYPE, "enum"),
            Column(NOTE, "string"),
        ),
        key=(CUSTOMER_ID, CHURN_DATE),
    ),
    "staff": Contract(
        "staff",
        (
            Column(OWNER_ID, "id", required=True),
            Column(NAME, "string"),
            Column(HIRED_AT, "date"),
            Column(LEFT_AT, "date"),
        ),
        key=(OWNER_ID,),
        ordered=((HIRED_AT, LEFT_AT),),
    ),
    # what was done to keep whom, and what came of it (the plan's treated customers and
    # its control group, so that the effect of each playbook can be measured)
    "retention_actions": Contract(
        "retention_actions",
        (
            Column(CUSTOMER_ID, "id", required=True),
            Column(ACTION, "string", required=True),
            Column(DATE, "date", required=True),
            Column(GROUP, "enum"),
            Column(OUTCOME, "enum"),
            Column(NOTE, "string"),
        ),
        key=(CUSTOMER_ID, ACTION, DATE),
    ),
}

# complaints.category uses the reason taxonomy
ENUM_ALIASES[CATEGORY] = ENUM_ALIASES[REASON_CATEGORY]

#: Common Chinese (and English) headers and the contract column they mean.
#: Applied after the user's own mapping, only to headers that are not already targets.
BUILTIN_HEADER_MAP: dict[str, str] = {
    "客户编号": CUSTOMER_ID, "客户ID": CUSTOMER_ID, "客户id": CUSTOMER_ID, "客户号": CUSTOMER_ID,
    "客户代码": CUSTOMER_ID, "用户编号": CUSTOMER_ID, "用户ID": CUSTOMER_ID,
    "经销商编号": CUSTOMER_ID,
    "网点编号": CUSTOMER_ID, "customer id": CUSTOMER_ID, "customerid": CUSTOMER_ID,
    "客户名称": NAME, "客户名": NAME, "用户名称": NAME, "经销商名称": NAME, "网点名称": NAME,
    "开户日期": SIGNUP_DATE, "注册日期": SIGNUP_DATE, "签约日期": SIGNUP_DATE,
    "入网日期": SIGNUP_DATE,
    "加入日期": SIGNUP_DATE,
    "等级": GRADE, "客户等级": GRADE, "级别": GRADE, "客户级别": GRADE,
    "大客户": IS_KEY_ACCOUNT, "是否大客户": IS_KEY_ACCOUNT, "重点客户": IS_KEY_ACCOUNT,
    "是否重点客户": IS_KEY_ACCOUNT,
    "细分": SEGMENT, "客户细分": SEGMENT, "客户类型": SEGMENT, "行业": SEGMENT,
    "区域": REGION, "地区": REGION, "大区": REGION, "省份": REGION,
    "渠道": CHANNEL, "销售渠道": CHANNEL, "投诉渠道": CHANNEL,
    "客户经理": OWNER_ID, "负责人": OWNER_ID, "业务员": OWNER_ID, "销售代表": OWNER_ID,
    "客户经理编号": OWNER_ID, "员工编号": OWNER_ID,
    "毛利率": MARGIN_RATE,
    "产品": PRODUCT, "套餐": PRODUCT, "产品名称": PRODUCT,
    "开始日期": START_DATE, "生效日期": START_DATE, "起始日期": START_DATE,
    "结束日期": END_DATE, "到期日期": END_DATE, "销户日期": END_DATE, "终止日期": END_DATE,
    "月费": AMOUNT_PER_MONTH, "月租": AMOUNT_PER_MONTH, "月费用": AMOUNT_PER_MONTH,
    "取消原因": CANCEL_REASON, "销户原因": CANCEL_REASON, "离网原因": CANCEL_REASON,
    "取消类型": CANCEL_KIND,
    "订单编号": TRANSACTION_ID, "订单号": TRANSACTION_ID, "交易编号": TRANSACTION_ID,
    "单号": TRANSACTION_ID,
    "日期": DATE, "交易日期": DATE, "订单日期": DATE, "下单日期": DATE, "购买日期": DATE,
    "金额": AMOUNT, "交易金额": AMOUNT, "订单金额": AMOUNT, "销售额": AMOUNT,
    "毛利": MARGIN, "毛利额": MARGIN,
    "时间": TIME, "发生时间": TIME, "投诉时间": TIME, "调查时间": TIME,
    "事件类型": EVENT_TYPE, "数值": VALUE, "值": VALUE,
    "投诉编号": COMPLAINT_ID, "投诉内容": TEXT, "内容": TEXT, "文本": TEXT,
    "投诉类别": CATEGORY, "类别": CATEGORY, "解决时间": RESOLVED_AT, "处理完成时间": RESOLVED_AT,
    "评分": SCORE, "得分": SCORE, "调查类型": KIND,
    "流失日期": CHURN_DATE, "流失原因": REASON_CATEGORY, "原因类别": REASON_CATEGORY,
    "流失类型": CHURN_TYPE, "备注": NOTE,
    "员工姓名": NAME, "姓名": NAME, "入职日期": HIRED_AT, "离职日期": LEFT_AT,
    "挽留措施": ACTION, "措施": ACTION, "分组": GROUP, "结果": OUTCOME, "挽留结果": OUTCOME,
}
