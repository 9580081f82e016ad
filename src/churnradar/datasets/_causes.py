"""Why simulated customers leave: the causes of each demo industry.

Each cause names a reason category and a churn type of domain.md §3 that go together
(a competitor's offer is competitive churn, a billing mistake is fault churn, a forgotten
payment is non-malicious, fraud is malicious ...), and carries the Chinese texts written
into ``churn_records.note`` and ``subscriptions.cancel_reason``. Weights are the mix of
ordinary churn; planted causes (weight 0) belong to the planted events only.
"""

from __future__ import annotations

from churnradar.datasets._common import Cause, CauseTable

TELECOM_CAUSES = CauseTable((
    Cause(
        "price_competitor", "price", "competitive", 0.26,
        notes=("嫌资费高，携号转网到其他运营商", "竞争对手同档套餐便宜三成，转网",
               "家庭宽带续费价格高于竞争对手"),
        cancel=("携号转网，对方套餐更便宜", "资费太贵"),
        complaints=0.3, survey_drop=0.3,
    ),
    Cause(
        "service_angry", "service", "retaliatory", 0.09,
        notes=("多次投诉无果，愤而销户", "报修多次无人上门，投诉后仍未解决，要求销户"),
        cancel=("投诉多次未解决，要求销户",),
        complaints=3.0, unresolved=0.5, survey_drop=1.0,
    ),
    Cause(
        "service_competitor", "service", "competitive", 0.06,
        notes=("营业厅服务态度差，转到其他运营商", "客服响应慢，被竞争对手上门营销挖走"),
        cancel=("服务差，转网",),
        complaints=1.0, unresolved=0.3, survey_drop=0.6,
    ),
    Cause(
        "product_network", "product", "competitive", 0.10,
        notes=("家中信号覆盖差，转用其他运营商", "5G网络覆盖不足，网速慢"),
        cancel=("信号差", "网速慢"),
        complaints=1.5, unresolved=0.3, survey_drop=0.6,
    ),
    Cause(
        "product_fault", "product", "fault", 0.04,
        notes=("宽带设备故障频繁，维修不及时", "光猫故障长期未更换"),
        cancel=("宽带故障频繁",),
        complaints=2.0, unresolved=0.3, survey_drop=0.7,
    ),
    Cause(
        "benefit_promo_end", "benefit", "competitive", 0.05,
        notes=("合约优惠到期后月费上涨，转投其他运营商", "积分和赠送权益取消"),
        cancel=("优惠到期",),
        complaints=0.5, survey_drop=0.3,
    ),
    Cause(
        "management_billing", "management", "fault", 0.06,
        notes=("账单多次扣费错误，失去信任", "被误开通增值业务扣费，要求销户"),
        cancel=("乱扣费",),
        complaints=1.5, unresolved=0.3, survey_drop=0.7,
    ),
    Cause(
        "industry_no_need", "industry", "natural", 0.04,
        notes=("企业转型，不再需要专线", "改用其他通信方式，不再需要固话和宽带"),
        cancel=("业务不再需要",),
    ),
    Cause(
        "natural_move", "natural", "natural", 0.12,
        notes=("搬迁到外地", "出国定居", "用户身故，家属办理销户"),
        cancel=("搬迁外地", "出国", "用户身故"),
        winback=False,
    ),
    Cause(
        "forgot_to_pay", "service", "non_malicious", 0.08,
        notes=("忘记缴费导致停机销号，未收到缴费提醒",),
        cancel=("欠费停机后未及时缴费，号码回收",),
        involuntary=True,
    ),
    Cause(
        "fraud_nonpayment", "natural", "malicious", 0.04,
        notes=("恶意欠费后失联，信用等级低", "套取入网优惠后停止缴费"),
        cancel=("恶意欠费，强制销户",),
        involuntary=True, winback=False,
    ),
    Cause(
        "price_war", "price", "competitive", 0.0,
        notes=("竞争对手价格战期间推出低价不限量套餐，携号转出",
               "竞争对手价格战：同样流量每月便宜五十元"),
        cancel=("竞争对手低价套餐，携号转网",),
        complaints=0.2, survey_drop=0.3,
    ),
))

DEALER_CAUSES = CauseTable((
    Cause(
        "price_competitor", "price", "competitive", 0.20,
        notes=("竞品出货价更低，转做竞品", "本品牌连续涨价，利润太薄，改代理其他品牌"),
        complaints=0.4,
    ),
    Cause(
        "product_quality", "product", "competitive", 0.10,
        notes=("产品质量不稳定，新品跟不上，改代理其他品牌",),
        complaints=1.0, unresolved=0.3,
    ),
    Cause(
        "product_defect", "product", "fault", 0.04,
        notes=("批次质量事故处理不当，终止合作",),
        complaints=1.5, unresolved=0.3,
    ),
    Cause(
        "service_angry", "service", "retaliatory", 0.08,
        notes=("售后响应慢，投诉多次无人处理，终止合作",),
        complaints=2.5, unresolved=0.5,
    ),
    Cause(
        "service_competitor", "service", "competitive", 0.03,
        notes=("竞品厂家服务更到位，被挖走",),
        complaints=0.8,
    ),
    Cause(
        "benefit_rebate", "benefit", "competitive", 0.10,
        notes=("返利兑现拖延，被竞品更高返利挖走",),
        complaints=1.0, unresolved=0.3,
    ),
    Cause(
        "benefit_dumping", "benefit", "fault", 0.05,
        notes=("跨区域窜货冲击价格，利润被压缩，退出经营本品牌",),
        complaints=1.5, unresolved=0.4,
    ),
    Cause(
        "management_delivery", "management", "fault", 0.09,
        notes=("发货不及时、经常缺货，下游客户流失", "账期突然收紧，资金周转困难"),
        complaints=1.2, unresolved=0.3,
    ),
    Cause(
        "management_renewal", "management", "non_malicious", 0.04,
        notes=("年度经销协议到期未续签，停止进货",),
    ),
    Cause(
        "industry_switch", "industry", "natural", 0.08,
        notes=("老板转行做其他行业", "当地市场萎缩，不再经营该品类"),
    ),
    Cause(
        "natural_close", "natural", "natural", 0.14,
        notes=("门店拆迁关闭", "老板退休，无人接手", "经营不善倒闭"),
        winback=False,
    ),
    Cause(
        "malicious_credit", "natural", "malicious", 0.05,
        notes=("拖欠货款，信用差，公司停止供货",),
        winback=False,
    ),
    Cause(
        "salesperson_left", "management", "competitive", 0.0,
        notes=("业务员离职，带走客户转投竞品",),
        complaints=0.3,
    ),
    Cause(
        "salesperson_left_orphan", "management", "fault", 0.0,
        notes=("业务员离职后无人对接，订单中断",),
        complaints=0.8, unresolved=0.5,
    ),
    Cause(
        "policy_change", "management", "fault", 0.0,
        notes=("新渠道政策提高任务门槛、取消部分支持，停止合作",),
        complaints=0.8, unresolved=0.4,
    ),
    Cause(
        "policy_rebate", "benefit", "competitive", 0.0,
        notes=("新政策下返利大幅下调，改投竞品",),
        complaints=0.6, unresolved=0.4,
    ),
))
