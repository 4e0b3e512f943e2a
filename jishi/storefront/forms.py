"""Login forms: they only parse and bound the input; the accounts services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jishi.core.errors import DomainError


class PasswordLoginForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20)
    password = forms.CharField(label=_("密码"), max_length=128, strip=False)


class SmsCodeForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=20)


class SmsLoginForm(SmsCodeForm):
    code = forms.CharField(label=_("验证码"), max_length=8)


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal in the form: its message on top, field details by the field."""
    message = str(error.message)
    form.add_error(None, message)
    for name, details in error.fields.items():
        for detail in details:
            if name in form.fields and detail != message:
                form.add_error(name, detail)
