"""Upload (engineers): drop metric files, see a dry-run preview and every problem, confirm, see the history.

Files go through `pilot_roi.ingest.ingest_file` twice: first with dry_run=True (nothing stored) for the
preview, then, on confirmation, for real. The bytes wait on the server between the two steps (keyed by a
random token and the user's name, for at most 30 minutes), never in the browser and never on disk under
the uploaded name. The user's upload scope (their subsidiary's sites) is passed to ingestion, which
refuses any other site before anything is stored.

A load, and the dry run of files over BACKGROUND_PREVIEW_BYTES, run as a job in a background thread
(`components.upload_jobs`, owned by the user who started it); the page polls it every JOB_POLL_MS with a
`dcc.Interval` that is enabled only while a job runs, shows the stage in words and a progress bar, then the
same results view as a preview answered at once. After a load that changed data the job itself asks for the
background re-estimation of the affected pilots.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback, dcc, html

from dashboards import ids
from dashboards.components import reestimate
from dashboards.components.pending import take_pending
from dashboards.components.ui import empty_state, error_alert, table
from dashboards.components.upload_jobs import JobStatus, job_status, start_job
from dashboards.components.upload_run import (
    BACKGROUND_PREVIEW_BYTES,
    UploadOutcome,
    UploadRequest,
    run_load,
    run_preview,
)
from dashboards.context import access, cursor, lang_of
from dashboards.security import audit_event, current_user, require
from pilot_roi import clock
from pilot_roi import dashboard_queries as q
from pilot_roi.auth import User, can, upload_subsidiaries
from pilot_roi.errors import InvalidInput, PilotRoiError, Problem
from pilot_roi.i18n import format_percent, t
from pilot_roi.safe_export import neutralise_frame
from pilot_roi.upload_guard import UploadLimits

dash.register_page(__name__, path="/upload", name="upload", title="pilot-roi", order=2)

JOB_POLL_MS = 500
ROW_COUNTS = ("rows_read", "rows_inserted", "rows_updated", "rows_unchanged", "rows_rejected")
"""The tables' count columns: shown with the page language's thousands separator."""


def layout(lang: str | None = None, **_: Any) -> html.Div:
    """The drop zone, the mode, the preview and result areas, the history and the template download."""
    require("read")
    lang = lang_of(lang)
    user = current_user()
    title = html.H2(t("dash.upload.title", lang), className="page-title")
    if not can(user, "upload"):
        return html.Div([title, empty_state(t("dash.upload.not_allowed", lang))])
    limit_mb = UploadLimits.from_env().max_upload_bytes // 1_048_576
    return html.Div(
        [
            dcc.Store(id=ids.UP_LANG, data=lang),
            dcc.Store(id=ids.UP_TOKEN),
            dcc.Store(id=ids.UP_ERRORS_STORE),
            dcc.Store(id=ids.UP_JOB),
            dcc.Store(id=ids.UP_JOB_DONE),
            dcc.Interval(id=ids.UP_JOB_POLL, interval=JOB_POLL_MS, n_intervals=0, disabled=True),
            title,
            html.P(t("dash.upload.lead", lang, limit=limit_mb), className="text-muted"),
            dbc.Alert(t("dash.upload.reestimate_running", lang), color="info", className="reestimate-running py-2")
            if reestimate.is_running()
            else html.Span(),
            dbc.Row(
                [
                    dbc.Col(
                        dcc.Upload(
                            id=ids.UP_UPLOAD,
                            children=html.Div(
                                [t("dash.upload.drop", lang), html.Br(), html.Small(t("dash.upload.formats", lang))]
                            ),
                            multiple=True,
                            max_size=UploadLimits.from_env().max_upload_bytes,
                            className="upload-zone",
                        ),
                        md=8,
                    ),
                    dbc.Col(
                        [
                            dbc.Label(t("dash.upload.mode", lang)),
                            dbc.RadioItems(
                                id=ids.UP_MODE,
                                options=[
                                    {"label": t("dash.upload.mode_all", lang), "value": "all_or_nothing"},
                                    {"label": t("dash.upload.mode_skip", lang), "value": "skip_invalid"},
                                ],
                                value="all_or_nothing",
                            ),
                            dbc.Button(
                                t("dash.upload.template", lang),
                                id=ids.UP_TEMPLATE_BTN,
                                color="link",
                                className="ps-0 mt-2",
                            ),
                            dcc.Download(id=ids.UP_TEMPLATE),
                        ],
                        md=4,
                    ),
                ],
                className="g-3 mb-3",
            ),
            html.Div(id=ids.UP_PROGRESS),
            dcc.Loading(html.Div(id=ids.UP_PREVIEW), type="dot"),
            html.Div(
                [
                    dbc.Button(
                        t("dash.upload.confirm", lang),
                        id=ids.UP_CONFIRM,
                        color="primary",
                        className="me-2",
                        disabled=True,
                    ),
                    dbc.Button(
                        t("dash.upload.cancel", lang), id=ids.UP_CANCEL, color="secondary", outline=True, disabled=True
                    ),
                ],
                className="mb-3",
            ),
            dcc.Loading(html.Div(id=ids.UP_RESULT), type="dot"),
            html.Div(id=ids.UP_ERRORS, className="mb-3"),
            dbc.Button(
                t("dash.upload.download_errors", lang),
                id=ids.UP_ERRORS_DOWNLOAD_BTN,
                color="link",
                className="ps-0 d-none",
            ),
            dcc.Download(id=ids.UP_ERRORS_DOWNLOAD),
            html.H4(t("dash.upload.history", lang), className="mt-4"),
            html.Div(history_table(lang, user.username if user and user.role != "admin" else None), id=ids.UP_HISTORY),
        ]
    )


def history_table(lang: str, username: str | None) -> Any:
    """The latest uploads (the engineer's own; everyone's for an admin)."""
    with cursor() as cur:
        frame = q.uploads(cur, username, 50)
    if frame.height == 0:
        return empty_state(t("dash.upload.no_history", lang))
    frame = frame.with_columns(
        pl.col("status").map_elements(lambda s: t(f"dash.status.{s}", lang), return_dtype=pl.String),
        clock.local_text("uploaded_at").alias("uploaded_at"),  # stored in UTC, read in Kazakhstan
    )
    cols = [
        "uploaded_at",
        "file_name",
        "uploaded_by",
        "status",
        "rows_read",
        "rows_inserted",
        "rows_updated",
        "rows_unchanged",
        "rows_rejected",
    ]
    headers = [(c, t(f"dash.upload.col.{c}", lang)) for c in cols]
    headers[0] = ("uploaded_at", clock.zoned(headers[0][1]))
    return table(frame, headers, "upload-history-table", page_size=10, numbers=ROW_COUNTS, lang=lang)


def _decode(contents: str) -> bytes:
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=False)
    except (IndexError, binascii.Error) as exc:
        raise InvalidInput([Problem("dash.upload.unreadable")]) from exc


def _request(user: User, files: tuple[tuple[str, bytes], ...], mode: str, *, dry_run: bool, lang: str) -> UploadRequest:
    return UploadRequest(access(), user.username, upload_subsidiaries(user), files, mode, dry_run, lang)


def summary_frame(results: list[tuple[str, Any]], lang: str) -> pl.DataFrame:
    """One row per file: status and counts (a refused file shows its first problem as the status)."""
    rows = []
    for name, res in results:
        if isinstance(res, PilotRoiError):
            rows.append(
                {
                    "file_name": name,
                    "status": t("dash.status.rejected", lang),
                    "rows_read": 0,
                    "rows_inserted": 0,
                    "rows_updated": 0,
                    "rows_unchanged": 0,
                    "rows_rejected": 0,
                }
            )
        else:
            rows.append(
                {
                    "file_name": name,
                    "status": t(f"dash.status.{res.status}", lang),
                    "rows_read": res.rows_read,
                    "rows_inserted": res.rows_inserted,
                    "rows_updated": res.rows_updated,
                    "rows_unchanged": res.rows_unchanged,
                    "rows_rejected": res.rows_rejected,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "file_name": pl.String,
            "status": pl.String,
            "rows_read": pl.Int64,
            "rows_inserted": pl.Int64,
            "rows_updated": pl.Int64,
            "rows_unchanged": pl.Int64,
            "rows_rejected": pl.Int64,
        },
    )


def errors_frame(results: list[tuple[str, Any]], lang: str) -> pl.DataFrame:
    """Every problem of every file: file, line, column, value, message."""
    rows: list[dict[str, Any]] = []
    for name, res in results:
        if isinstance(res, PilotRoiError):
            rows.extend(
                {"file_name": name, "line": None, "column": None, "value": None, "message": line}
                for line in res.render(lang)
            )
        else:
            rows.extend(
                {"file_name": name, "line": e.line, "column": e.column, "value": e.value, "message": e.message}
                for e in res.errors
            )
    return pl.DataFrame(
        rows,
        schema={
            "file_name": pl.String,
            "line": pl.Int64,
            "column": pl.String,
            "value": pl.String,
            "message": pl.String,
        },
    )


def _results_view(results: list[tuple[str, Any]], lang: str, heading: str) -> tuple[Any, Any, list[dict[str, Any]]]:
    summary = summary_frame(results, lang)
    errors = errors_frame(results, lang)
    cols = ["file_name", "status", "rows_read", "rows_inserted", "rows_updated", "rows_unchanged", "rows_rejected"]
    view = html.Div(
        [
            html.H5(heading),
            table(
                summary,
                [(c, t(f"dash.upload.col.{c}", lang)) for c in cols],
                f"upload-summary-{heading[:3]}",
                sortable=False,
                numbers=ROW_COUNTS,
                lang=lang,
            ),
        ]
    )
    notes = [n for _name, r in results if not isinstance(r, PilotRoiError) for n in r.notes]
    if notes:
        view.children.append(dbc.Alert([html.Div(n) for n in notes], color="light", className="mt-2 small"))
    if errors.height:
        err_view: Any = html.Div(
            [
                html.H5(t("dash.upload.errors", lang, n=errors.height)),
                table(
                    errors,
                    [(c, t(f"dash.upload.col.{c}", lang)) for c in ("file_name", "line", "column", "value", "message")],
                    "upload-errors-table",
                    page_size=20,
                ),
            ]
        )
    else:
        err_view = html.Span()
    return view, err_view, errors.to_dicts()


def progress_view(status: JobStatus | None, lang: str) -> html.Div:
    """The running job's stage in words and its progress bar."""
    stage, fraction, params = (status.stage, status.fraction, status.params) if status else ("starting", 0.0, {})
    percent = round(100 * fraction)
    return html.Div(
        [
            html.Div(t(f"dash.upload.stage.{stage}", lang, **params), className="upload-stage small mb-1"),
            dbc.Progress(
                value=percent,
                label=format_percent(percent, lang, 0),
                striped=True,
                animated=True,
                className="upload-progress-bar",
            ),
        ],
        className="upload-progress mb-3",
    )


def preview_outputs(outcome: UploadOutcome, lang: str) -> tuple[Any, ...]:
    """The preview, the errors (view and records), the token, and whether confirm and cancel are disabled."""
    view, err_view, err_records = _results_view(outcome.results, lang, t("dash.upload.preview", lang))
    if outcome.token is None:
        view.children.append(dbc.Alert(t("dash.upload.nothing_to_load", lang), color="warning", className="mt-2"))
    disabled = outcome.token is None
    return view, err_view, err_records, outcome.token, disabled, disabled


def load_outputs(outcome: UploadOutcome, lang: str, user: User) -> tuple[Any, ...]:
    """The load's result, the errors (view and records) and the refreshed history."""
    view, err_view, err_records = _results_view(outcome.results, lang, t("dash.upload.loaded", lang))
    if outcome.reestimating:
        view.children.append(dbc.Alert(t("dash.upload.reestimating", lang), color="info", className="mt-2"))
    history = history_table(lang, user.username if user.role != "admin" else None)
    return view, err_view, err_records, history


@callback(
    Output(ids.UP_PREVIEW, "children"),
    Output(ids.UP_ERRORS, "children"),
    Output(ids.UP_ERRORS_STORE, "data"),
    Output(ids.UP_TOKEN, "data"),
    Output(ids.UP_CONFIRM, "disabled"),
    Output(ids.UP_CANCEL, "disabled"),
    Output(ids.UP_RESULT, "children"),
    Output(ids.UP_JOB, "data"),
    Output(ids.UP_JOB_POLL, "disabled"),
    Output(ids.UP_PROGRESS, "children"),
    Input(ids.UP_UPLOAD, "contents"),
    State(ids.UP_UPLOAD, "filename"),
    State(ids.UP_MODE, "value"),
    State(ids.UP_LANG, "data"),
    prevent_initial_call=True,
)
def preview(contents: list[str] | None, names: list[str] | None, mode: str | None, lang: str | None) -> tuple[Any, ...]:
    """Dry-run every dropped file: what would be inserted, updated, unchanged, and every problem (big files as
    a job with progress)."""
    user = require("upload")
    lang = lang_of(lang)
    if not contents:
        return (dash.no_update,) * 10
    mode = mode if mode in ("all_or_nothing", "skip_invalid") else "all_or_nothing"
    given: list[str | None] = list(names) if names else [None] * len(contents)
    files = tuple(
        (str(name or f"file-{i + 1}")[:200], _decode(c))
        for i, (c, name) in enumerate(zip(contents, given, strict=False))
    )
    request = _request(user, files, mode, dry_run=True, lang=lang)
    if sum(len(data) for _name, data in files) <= BACKGROUND_PREVIEW_BYTES:
        return (*preview_outputs(run_preview(request), lang), html.Span(), None, True, html.Span())
    job = start_job(user.username, lambda report: run_preview(request, report))
    empty = html.Span()
    return empty, empty, None, None, True, True, empty, job, False, progress_view(None, lang)


@callback(
    Output(ids.UP_RESULT, "children", allow_duplicate=True),
    Output(ids.UP_CONFIRM, "disabled", allow_duplicate=True),
    Output(ids.UP_CANCEL, "disabled", allow_duplicate=True),
    Output(ids.UP_TOKEN, "data", allow_duplicate=True),
    Output(ids.UP_JOB, "data", allow_duplicate=True),
    Output(ids.UP_JOB_POLL, "disabled", allow_duplicate=True),
    Output(ids.UP_PROGRESS, "children", allow_duplicate=True),
    Input(ids.UP_CONFIRM, "n_clicks"),
    State(ids.UP_TOKEN, "data"),
    State(ids.UP_LANG, "data"),
    prevent_initial_call=True,
)
def confirm(n_clicks: int | None, token: str | None, lang: str | None) -> tuple[Any, ...]:
    """Start loading the previewed files for real (each whole or not at all, per the chosen mode) as a job
    the page polls; one writing job runs at a time."""
    user = require("upload")
    lang = lang_of(lang)
    pending = take_pending(str(token or ""), user.username) if n_clicks else None
    if pending is None:
        return error_alert([t("dash.upload.expired", lang)]), True, True, None, None, True, html.Span()
    request = _request(user, pending.files, pending.mode, dry_run=False, lang=lang)
    job = start_job(user.username, lambda report: run_load(request, report), exclusive=True)
    return html.Span(), True, True, None, job, False, progress_view(None, lang)


@callback(
    Output(ids.UP_PROGRESS, "children", allow_duplicate=True),
    Output(ids.UP_JOB_POLL, "disabled", allow_duplicate=True),
    Output(ids.UP_JOB, "data", allow_duplicate=True),
    Output(ids.UP_JOB_DONE, "data"),
    Input(ids.UP_JOB_POLL, "n_intervals"),
    State(ids.UP_JOB, "data"),
    State(ids.UP_LANG, "data"),
    prevent_initial_call=True,
)
def poll_job(_n: int | None, job_id: str | None, lang: str | None) -> tuple[Any, ...]:
    """While a job runs: its stage and progress. Once it ended: the polling stops and `show_job_result` takes
    over (kept apart so that the result areas' loading spinners do not flash at every poll)."""
    user = require("upload")
    lang = lang_of(lang)
    if not job_id:
        return dash.no_update, True, dash.no_update, dash.no_update
    status = job_status(str(job_id), user.username)
    if status is None:  # unknown, expired, or someone else's: the same answer
        return error_alert([t("dash.upload.job_unknown", lang)]), True, None, dash.no_update
    if status.state == "running":
        return progress_view(status, lang), dash.no_update, dash.no_update, dash.no_update
    return html.Span(), True, None, str(job_id)


@callback(
    Output(ids.UP_PREVIEW, "children", allow_duplicate=True),
    Output(ids.UP_RESULT, "children", allow_duplicate=True),
    Output(ids.UP_ERRORS, "children", allow_duplicate=True),
    Output(ids.UP_ERRORS_STORE, "data", allow_duplicate=True),
    Output(ids.UP_TOKEN, "data", allow_duplicate=True),
    Output(ids.UP_CONFIRM, "disabled", allow_duplicate=True),
    Output(ids.UP_CANCEL, "disabled", allow_duplicate=True),
    Output(ids.UP_HISTORY, "children"),
    Input(ids.UP_JOB_DONE, "data"),
    State(ids.UP_LANG, "data"),
    prevent_initial_call=True,
)
def show_job_result(job_id: str | None, lang: str | None) -> tuple[Any, ...]:
    """An ended job's results, as a preview answered at once would show them, or its failure as a message.
    Only the job's owner sees it."""
    user = require("upload")
    lang = lang_of(lang)
    same = dash.no_update
    status = job_status(str(job_id), user.username) if job_id else None
    if status is None or status.state == "running":
        return (same,) * 8
    if status.state == "failed":
        return same, error_alert(status.messages(lang)), same, same, None, True, True, same
    outcome: UploadOutcome = status.result
    if outcome.dry_run:
        view, err_view, records, token, confirm_off, cancel_off = preview_outputs(outcome, lang)
        return view, html.Span(), err_view, records, token, confirm_off, cancel_off, same
    view, err_view, records, history = load_outputs(outcome, lang, user)
    return same, view, err_view, records, None, True, True, history


@callback(
    Output(ids.UP_PREVIEW, "children", allow_duplicate=True),
    Output(ids.UP_CONFIRM, "disabled", allow_duplicate=True),
    Output(ids.UP_CANCEL, "disabled", allow_duplicate=True),
    Output(ids.UP_TOKEN, "data", allow_duplicate=True),
    Input(ids.UP_CANCEL, "n_clicks"),
    State(ids.UP_TOKEN, "data"),
    State(ids.UP_LANG, "data"),
    prevent_initial_call=True,
)
def cancel(n_clicks: int | None, token: str | None, lang: str | None) -> tuple[Any, ...]:
    """Forget the previewed files; nothing was stored."""
    user = require("upload")
    if token:
        take_pending(str(token), user.username)
    return dbc.Alert(t("dash.upload.cancelled", lang_of(lang)), color="secondary"), True, True, None


@callback(Output(ids.UP_ERRORS_DOWNLOAD_BTN, "className"), Input(ids.UP_ERRORS_STORE, "data"))
def show_download(records: list[dict[str, Any]] | None) -> str:
    """The errors download appears when there are errors."""
    require("read")
    return "ps-0" if records else "ps-0 d-none"


@callback(
    Output(ids.UP_ERRORS_DOWNLOAD, "data"),
    Input(ids.UP_ERRORS_DOWNLOAD_BTN, "n_clicks"),
    State(ids.UP_ERRORS_STORE, "data"),
    prevent_initial_call=True,
)
def download_errors(n_clicks: int | None, records: list[dict[str, Any]] | None) -> Any:
    """The validation report as CSV (UTF-8 with BOM, so Excel reads Cyrillic), formula-safe."""
    require("upload")
    if not records:
        return dash.no_update
    frame = neutralise_frame(pl.DataFrame(records, infer_schema_length=None))
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    audit_event("export", "upload-errors.csv", {"format": "csv", "rows": frame.height})
    return dcc.send_bytes(b"\xef\xbb\xbf" + buffer.getvalue(), "upload-errors.csv")


@callback(
    Output(ids.UP_TEMPLATE, "data"),
    Input(ids.UP_TEMPLATE_BTN, "n_clicks"),
    State(ids.UP_LANG, "data"),
    prevent_initial_call=True,
)
def download_template(n_clicks: int | None, lang: str | None) -> Any:
    """A long-form CSV template (headers in the user's language) listing their sites and metrics."""
    user = require("upload")
    lang = lang_of(lang)
    scope = upload_subsidiaries(user)
    subsidiary = next(iter(scope)) if scope else None
    with cursor() as cur:
        pairs = q.template_rows(cur, subsidiary)
    headers = [
        t(f"dash.template.{c}", lang) for c in ("site_code", "metric_code", "period", "value", "unit", "comment")
    ]
    frame = pl.DataFrame(
        {
            headers[0]: pairs["site_code"].cast(pl.String) if pairs.height else [],
            headers[1]: pairs["metric_code"].cast(pl.String) if pairs.height else [],
            headers[2]: [""] * pairs.height,
            headers[3]: [""] * pairs.height,
            headers[4]: pairs["unit"].cast(pl.String) if pairs.height else [],
            headers[5]: [""] * pairs.height,
        },
        schema=dict.fromkeys(headers, pl.String),
    )
    buffer = io.BytesIO()
    neutralise_frame(frame).write_csv(buffer, separator=";")
    return dcc.send_bytes(b"\xef\xbb\xbf" + buffer.getvalue(), f"template-{subsidiary or 'all'}.csv")
