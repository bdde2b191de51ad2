"""The source app's forms; every label and message is translated lazily."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    Field,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lumen.config import Config
from lumen.web import LANGUAGE_NAMES
from source_app.i18n import FORM_TRANSLATIONS

WHO_CHOICES = (
    SelectChoice("victim", _l("It happened to me")),
    SelectChoice("relative", _l("Family member or friend of someone it happens to")),
    SelectChoice("witness", _l("I saw or heard something")),
    SelectChoice("professional", _l("I meet it in my work")),
    SelectChoice("unsaid", _l("I would rather not say")),
)
KIND_CHOICES = (
    SelectChoice("sexual", _l("Sexual exploitation or forced prostitution")),
    SelectChoice(
        "labour", _l("Work under bad conditions: low or no pay, papers taken away, no freedom")
    ),
    SelectChoice("begging", _l("Forced begging")),
    SelectChoice("crime", _l("Being forced to commit crimes, such as theft or selling drugs")),
    SelectChoice("organs", _l("Removal of organs")),
    SelectChoice("other", _l("Something else")),
    SelectChoice("unknown", _l("I don't know")),
)
DANGER_CHOICES = (
    SelectChoice("yes", _l("Yes")),
    SelectChoice("no", _l("No")),
    SelectChoice("unsure", _l("I'm not sure")),
)
ANY_CENTRE = "any"
CONTACT_MAX_CHARS = 1000
WHERE_MAX_CHARS = 200


class SourceForm(FlaskForm):  # type: ignore[misc]
    """Base form whose WTForms messages come from the source catalogues."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            return FORM_TRANSLATIONS


class CheckboxesField(SelectMultipleField):  # type: ignore[misc]
    """Several choices shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def visible_text(value: str | None) -> str:
    """Return ``value`` without leading and trailing white space, U+00A0 included."""
    return (value or "").strip()


def message_text(value: str | None) -> str:
    """Return the message as typed, with the CR LF line breaks browsers send as LF."""
    return (value or "").replace("\r\n", "\n")


def chosen_files(field: Field) -> list[FileStorage]:
    """Return the files actually chosen, leaving out empty file fields."""
    return [
        item
        for item in (field.data or [])
        if isinstance(item, FileStorage) and (item.filename or _upload_size(item))
    ]


def _upload_size(item: FileStorage) -> int:
    return int(getattr(item.stream, "size", 0))


class MessageFormMixin:
    """Checks shared by the first report and follow-up messages."""

    message: TextAreaField
    files: MultipleFileField

    def check_message_and_files(self, limits_chars: int, max_files: int) -> bool:
        """Require a message or a file; reject empty files, too many files, long text."""
        ok = True
        message = visible_text(self.message.data)
        files = chosen_files(self.files)

        if len(message_text(self.message.data)) > limits_chars:
            self.message.errors = [
                *self.message.errors,
                ngettext(
                    "Your message is too long. It can be at most %(num)d character.",
                    "Your message is too long. It can be at most %(num)d characters.",
                    limits_chars,
                ),
            ]
            ok = False
        if not message and not files:
            self.message.errors = [
                *self.message.errors,
                _("Write a message or choose a file. Both cannot be empty."),
            ]
            ok = False

        empty = [item.filename or "" for item in files if _upload_size(item) == 0]
        for name in empty:
            self.files.errors = [
                *self.files.errors,
                _("The file “%(name)s” is empty. Choose another file.", name=name),
            ]
            ok = False
        if len(files) > max_files:
            self.files.errors = [
                *self.files.errors,
                ngettext(
                    "You can send at most %(num)d file at a time.",
                    "You can send at most %(num)d files at a time.",
                    max_files,
                ),
            ]
            ok = False
        return ok


class ReportForm(SourceForm, MessageFormMixin):
    """The first report: a few optional questions, a message and files."""

    who = RadioField(_l("Who are you?"), choices=WHO_CHOICES, validators=[Optional()])
    kinds = CheckboxesField(
        _l("What is happening? Choose all that apply."),
        choices=KIND_CHOICES,
        validators=[Optional()],
    )
    where = StringField(
        _l("Where? A province or a city is enough."),
        validators=[Optional(), Length(max=WHERE_MAX_CHARS)],
    )
    danger = RadioField(
        _l("Are you in danger now?"), choices=DANGER_CHOICES, validators=[Optional()]
    )
    centre = RadioField(_l("Which centre should read your report?"), default=ANY_CENTRE)
    reply_language = SelectField(_l("In which language should we reply?"))
    message = TextAreaField(_l("Your message"))
    files = MultipleFileField(_l("Files (photos, documents)"))
    contact = TextAreaField(
        _l("May a centre contact you outside this site? If so, how and when is it safe?"),
        validators=[Optional(), Length(max=CONTACT_MAX_CHARS)],
    )

    def __init__(self, config: Config, language: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._config = config
        self.centre.choices = [SelectChoice(ANY_CENTRE, _l("Let the reporting point decide"))]
        self.centre.choices += [
            SelectChoice(centre.id, f"{centre.name} ({centre.city})") for centre in config.centres
        ]
        self.reply_language.choices = [
            SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()
        ]
        if not self.reply_language.data:
            self.reply_language.data = language

    def validate(self, extra_validators: Any = None) -> bool:
        """Run the field checks, then require a message or a file."""
        fields_ok = super().validate(extra_validators)
        limits = self._config.limits
        return self.check_message_and_files(limits.max_message_chars, limits.max_files) and (
            fields_ok
        )


class FollowUpForm(SourceForm, MessageFormMixin):
    """Another message or more files on an existing report."""

    message = TextAreaField(_l("Your message"))
    files = MultipleFileField(_l("Files (photos, documents)"))

    def __init__(self, config: Config, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._config = config

    def validate(self, extra_validators: Any = None) -> bool:
        """Run the field checks, then require a message or a file."""
        fields_ok = super().validate(extra_validators)
        limits = self._config.limits
        return self.check_message_and_files(limits.max_message_chars, limits.max_files) and (
            fields_ok
        )


class CodenameForm(SourceForm):
    """Coming back: the codename, typed however the source types it."""

    codename = StringField(_l("Your codename"), validators=[DataRequired()])


class DeleteAllForm(SourceForm):
    """Deleting the whole report and the codename."""

    confirm = BooleanField(
        _l("Yes, delete my report, every message and file, and my codename."),
        validators=[InputRequired(message=_l("Tick the box to confirm."))],
    )


class ActionForm(SourceForm):
    """A button with nothing to fill in: log out, delete a reply."""
