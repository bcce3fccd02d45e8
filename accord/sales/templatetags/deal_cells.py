from django import template

from accord.sales.columns import cell

register = template.Library()


@register.simple_tag
def deal_cell(deal, column: str):
    return cell(deal, column)
