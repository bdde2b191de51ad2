"""The caseworker app's forms; every label and message goes through Babel."""

from __future__ import annotations

from typing import Final

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from lumen.accounts import PASSPHRASE_MIN_CHARS
from store.settings import MAX_RETENTION_DAYS

# A reply or note is one inline envelope of at most 64 KiB; 15,000 characters fit even
# when every character takes four bytes in UTF-8.
TEXT_MAX_CHARS: Final = 15_000
_REQUIRED = _l("Please fill in this field.")


def _not_blank(_form: FlaskForm, field: StringField) -> None:
    if not (field.data or "").strip():
        raise ValidationError(_l("Please write something first."))


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField(_l("Username"), validators=[DataRequired(_REQUIRED), Length(max=64)])
    passphrase = PasswordField(
        _l("Passphrase"), validators=[DataRequired(_REQUIRED), Length(max=1024)]
    )
    code = StringField(
        _l("Code from your authenticator app"), validators=[DataRequired(_REQUIRED), Length(max=12)]
    )


class TextForm(FlaskForm):  # type: ignore[misc]
    text = TextAreaField(
        _l("Text"),
        validators=[
            _not_blank,
            Length(max=TEXT_MAX_CHARS, message=_l("This text is too long.")),
        ],
    )


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A form with only the CSRF token, for buttons that change something."""


class StatusForm(FlaskForm):  # type: ignore[misc]
    status = SelectField(_l("Status"), choices=[], validators=[InputRequired()])


class AssignForm(FlaskForm):  # type: ignore[misc]
    assignee = SelectField(_l("Assigned to"), choices=[], validators=[Optional()])


class TagForm(FlaskForm):  # type: ignore[misc]
    tag = StringField(_l("Tag"), validators=[DataRequired(_REQUIRED), Length(max=40)])


class ForwardForm(FlaskForm):  # type: ignore[misc]
    centre = SelectField(_l("Centre"), choices=[], validators=[InputRequired()])


class InviteForm(FlaskForm):  # type: ignore[misc]
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(_REQUIRED),
            Regexp(
                r"^\s*[A-Za-z0-9][A-Za-z0-9._-]{1,63}\s*$",
                message=_l("Use 2 to 64 letters, digits, dots, dashes or underscores."),
            ),
        ],
    )
    is_admin = BooleanField(_l("Administrator"))


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SettingsForm(FlaskForm):  # type: ignore[misc]
    retention_days = IntegerField(
        _l("Delete cases with no activity after (days)"),
        validators=[InputRequired(_REQUIRED), NumberRange(min=1, max=MAX_RETENTION_DAYS)],
    )
    max_file_mb = IntegerField(
        _l("Largest file a source can send (MB)"),
        validators=[InputRequired(_REQUIRED), NumberRange(min=1, max=2000)],
    )
    max_files = IntegerField(
        _l("Most files in one report"),
        validators=[InputRequired(_REQUIRED), NumberRange(min=1, max=50)],
    )
    quick_exit_url = StringField(
        _l("Quick-exit address"),
        validators=[
            DataRequired(_REQUIRED),
            Regexp(r"^https://\S+$", message=_l("Give an address that starts with https://.")),
            Length(max=500),
        ],
    )
    onion_address = StringField(
        _l("Onion address"),
        validators=[
            Optional(),
            Regexp(
                r"^[a-z2-7]{56}\.onion$",
                message=_l("Give a version 3 onion address, 56 characters and .onion."),
            ),
        ],
    )
    source_languages = MultiCheckboxField(
        _l("Languages offered to sources"),
        choices=[],
        validators=[DataRequired(_l("Choose at least one language."))],
    )


class PassphraseForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField(_l("Current passphrase"), validators=[DataRequired(_REQUIRED)])
    new = PasswordField(
        _l("New passphrase"),
        validators=[
            DataRequired(_REQUIRED),
            Length(
                min=PASSPHRASE_MIN_CHARS,
                max=1024,
                message=_l("Use at least %(min)d characters.", min=PASSPHRASE_MIN_CHARS),
            ),
        ],
    )
    confirm = PasswordField(
        _l("New passphrase again"),
        validators=[
            DataRequired(_REQUIRED),
            EqualTo("new", message=_l("The two new passphrases are not the same.")),
        ],
    )


class TotpForm(FlaskForm):  # type: ignore[misc]
    secret = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Z2-7]{32}$")])
    code = StringField(
        _l("Code from your authenticator app"), validators=[DataRequired(_REQUIRED), Length(max=12)]
    )
