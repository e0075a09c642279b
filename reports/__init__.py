"""Run folders -> tables -> KPIs -> plots -> one self-contained HTML report; Allure helpers.
Lands with issue 10."""
