"""The field errors of forms: one code each, worded in Chinese and English.

`message` carries both languages ("请填写此项 / This field is required"); `code` and `context` let
the console word an error in its own language.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # definitions (the builder's drafts)
    "no_fields": ("表单至少需要一个字段", "A form needs at least one field"),
    "too_many_fields": ("字段过多（最多 {max} 个）", "Too many fields (at most {max})"),
    "unknown_type": ("未知的字段类型", "Unknown field type"),
    "bad_key": (
        "字段标识须以小写字母开头，只含小写字母、数字和下划线（最多 40 个）",
        "Keys start with a lowercase letter and hold lowercase letters, digits and _ (at most 40)",
    ),
    "duplicate_key": ("字段标识重复：{key}", "Duplicate field key: {key}"),
    "not_for_type": ("此类型的字段不使用该属性", "This field type does not take this attribute"),
    "label_missing": ("请填写字段名称", "Give the field a label"),
    "no_options": ("请至少添加一个选项", "Add at least one option"),
    "duplicate_option": ("选项值重复", "Option values repeat"),
    "bad_widget": ("不支持的控件（可选：{allowed}）", "Unknown widget (one of: {allowed})"),
    "bad_money_bound": ("金额须不小于 0 且最多两位小数", "Amounts are >= 0 with at most 2 decimals"),
    "max_below_min": ("最大值小于最小值", "The maximum is below the minimum"),
    "bad_max_length": ("长度上限须在 1 到 {limit} 之间", "The length limit must be 1 to {limit}"),
    "bad_max_items": ("数量上限须在 1 到 {limit} 之间", "The item limit must be 1 to {limit}"),
    "missing_field": ("规则引用的字段不存在：{key}", "The rule names a missing field: {key}"),
    "self_reference": ("规则不能引用字段自身", "A rule cannot depend on its own field"),
    "value_list": ("请选择至少一个比较值", "Give a list of values"),
    "value_scalar": ("请填写比较值", "Give a value to compare with"),
    "value_not_option": ("比较值不是该字段的选项", "The value is not an option of that field"),
    "op_filled_only": ("此类字段只能判断“已填写”", "Fields of this type only take the 'filled' test"),
    "rule_cycle": ("显示规则循环依赖", "Visibility rules depend on each other in a circle"),
    "ticket_type_required": ("工单类型表单须指定工单类型", "Ticket forms name their ticket type"),
    "ticket_type_public": ("公开表单不属于工单类型", "Public forms have no ticket type"),
    "kind_fixed": ("表单类型创建后不可修改", "A form's kind cannot change"),
    "taken": ("已被其他表单使用：{value}", "Another form has it: {value}"),
    "ticket_form_actions": ("工单类型表单不能设置提交动作", "Ticket-type forms take no submit actions"),
    "unknown_placeholder": ("标题中的 {{{key}}} 不是表单字段", "{{{key}}} in the title is not a field"),
    "not_phone_field": ("请选择一个手机号字段", "Choose a phone field"),
    "unknown_tag": ("标签不存在：{tag_id}", "No such tag: {tag_id}"),
    # submitted data
    "unknown_field": ("表单中没有此字段", "This form has no such field"),
    "required": ("请填写此项", "This field is required"),
    "not_text": ("请输入文字", "Enter text"),
    "too_long": ("最多 {max_length} 个字", "At most {max_length} characters"),
    "not_number": ("请输入数字", "Enter a number"),
    "below_minimum": ("不能小于 {minimum}", "Must be at least {minimum}"),
    "above_maximum": ("不能大于 {maximum}", "Must be at most {maximum}"),
    "not_money": (
        "请输入金额，如 12.50（不小于 0，最多两位小数）",
        "Enter an amount such as 12.50 (>= 0, 2 decimals)",
    ),
    "not_date": ("请输入日期，如 2026-05-01", "Enter a date such as 2026-05-01"),
    "not_option": ("请选择列表中的选项", "Choose one of the options"),
    "not_options": ("请选择列表中的选项（不可重复）", "Choose options from the list (no repeats)"),
    "too_many_items": ("最多选择 {max_items} 项", "Choose at most {max_items}"),
    "not_region": ("请选择省份（城市、区县可选）", "Choose a province (city and district optional)"),
    "unknown_province": ("没有这个省份", "Unknown province"),
    "not_phone": ("请输入有效的中国大陆手机号", "Enter a valid mainland China mobile number"),
    "not_files": ("附件须为已上传文件的编号列表", "Attachments are a list of uploaded file ids"),
    "not_rating": ("请评 1 到 5 分", "Rate from 1 to 5"),
    "not_boolean": ("请勾选或取消勾选", "Check or uncheck the box"),
    "consent_required": ("请阅读并同意", "Please read and agree"),
    "not_object": ("提交的数据须为对象", "The data must be an object"),
}


def field_error(field: str, code: str, **context: Any) -> dict[str, Any]:
    """One field error: `{"field", "message", "code", "context"}`."""
    zh, en = MESSAGES[code]
    return {
        "field": field,
        "message": f"{zh.format(**context)} / {en.format(**context)}",
        "code": code,
        "context": context,
    }
