"""Every component id of the app, in one place, so that ids stay unique across pages.

Ids are "<page>-<thing>"; a page's ids never appear in another page's layout.
"""

from __future__ import annotations

# Shell
LANG_STORE = "shell-lang-store"
LANG_SELECT = "shell-lang-select"
NAV = "shell-nav"
BRAND_SUBTITLE = "shell-brand-subtitle"
USER_BADGE = "shell-user"
SIGN_OUT = "shell-sign-out"
DEMO_BADGE = "shell-demo-badge"
ERROR_TOAST = "shell-error-toast"
REDIRECT = "shell-redirect"


def nav_link(page: str) -> str:
    """The navbar link of `page`."""
    return f"shell-nav-{page}"


# Portfolio
PF_LANG = "portfolio-lang"
PF_SUBSIDIARY = "portfolio-filter-subsidiary"
PF_USE_CASE = "portfolio-filter-use-case"
PF_YEAR = "portfolio-filter-year"
PF_GRADE = "portfolio-filter-grade"
PF_CARDS = "portfolio-cards"
PF_FOREST = "portfolio-forest"
PF_BY_SUBSIDIARY = "portfolio-by-subsidiary"
PF_BY_USE_CASE = "portfolio-by-use-case"
PF_CUMULATIVE = "portfolio-cumulative"
PF_TABLE = "portfolio-table"
PF_TABLE_PAGE = "portfolio-table-page"  # a store: the page of the table shown
PF_TABLE_PAGER = "portfolio-table-pager"  # the pager (components/pager.py); its buttons' type: "<this>-button"
PF_TABLE_SORT = "portfolio-table-sort"
PF_TABLE_SEARCH = "portfolio-table-search"
PF_TABLE_CAPTION = "portfolio-table-caption"
PF_LOCATION = "portfolio-location"
PF_EMPTY = "portfolio-empty"

# Pilot
PI_LANG = "pilot-lang"
PI_CODE = "pilot-code"
PI_METRIC = "pilot-metric"
PI_SECTION = "pilot-section"
PI_COUNTERFACTUAL = "pilot-counterfactual"
PI_EVENT_STUDY = "pilot-event-study"
PI_ROBUSTNESS = "pilot-robustness"
PI_EMPTY = "pilot-empty"
PI_DESIGN = "pilot-design"
PI_SITES_USED = "pilot-sites-used"

# Upload
UP_LANG = "upload-lang"
UP_UPLOAD = "upload-files"
UP_MODE = "upload-mode"
UP_PREVIEW = "upload-preview"
UP_TOKEN = "upload-token"
UP_CONFIRM = "upload-confirm"
UP_CANCEL = "upload-cancel"
UP_RESULT = "upload-result"
UP_ERRORS = "upload-errors"
UP_ERRORS_DOWNLOAD_BTN = "upload-errors-download-button"
UP_ERRORS_DOWNLOAD = "upload-errors-download"
UP_ERRORS_STORE = "upload-errors-store"
UP_HISTORY = "upload-history"
UP_TEMPLATE_BTN = "upload-template-button"
UP_TEMPLATE = "upload-template-download"
UP_JOB = "upload-job"
UP_JOB_POLL = "upload-job-poll"
UP_JOB_DONE = "upload-job-done"
UP_PROGRESS = "upload-progress"

# Data quality
DQ_LANG = "quality-lang"
DQ_SUBSIDIARY = "quality-subsidiary"
DQ_BODY = "quality-body"

# Reports
RP_LANG = "reports-lang"
RP_YEAR = "reports-year"
RP_REPORT_LANG = "reports-language"
RP_FORMAT = "reports-format"
RP_BUTTON = "reports-button"
RP_DOWNLOAD = "reports-download"
RP_STATUS = "reports-status"
RP_FREEZE_BUTTON = "reports-freeze-button"
RP_FREEZE_STATUS = "reports-freeze-status"

# Admin
AD_LANG = "admin-lang"
AD_UPLOAD = "admin-registry-upload"
AD_RESULT = "admin-registry-result"
AD_TABLES = "admin-tables"

# Audit log (reviewers and admins)
AU_LANG = "audit-lang"
AU_USER = "audit-filter-user"
AU_ACTION = "audit-filter-action"
AU_DATES = "audit-filter-dates"
AU_PAGE = "audit-page"  # a store: the page of the log shown
AU_PAGER = "audit-pager"  # the pager (components/pager.py); its buttons' type: "<this>-button"
AU_COUNT = "audit-count"
AU_TABLE = "audit-table"
AU_DOWNLOAD_BTN = "audit-download-button"
AU_DOWNLOAD = "audit-download"

# Refresh after a new finished run (portfolio and pilot pages poll the results version)
PF_POLL = "portfolio-results-poll"
PF_VERSION = "portfolio-results-version"
PF_NOTICE = "portfolio-results-notice"
PI_POLL = "pilot-results-poll"
PI_VERSION = "pilot-results-version"
PI_NOTICE = "pilot-results-notice"

# Admin: user management
AD_USERS_TABLE = "admin-users-table-box"
AD_USER_NAME = "admin-user-name"
AD_USER_ROLE = "admin-user-role"
AD_USER_SUBSIDIARY = "admin-user-subsidiary"
AD_USER_LANGUAGE = "admin-user-language"
AD_USER_ADD = "admin-user-add"
AD_USER_TARGET = "admin-user-target"
AD_USER_DISABLE = "admin-user-disable"
AD_USER_RESET = "admin-user-reset"
AD_USER_RESULT = "admin-user-result"

# Admin: the registry forms (a site, a metric, a pilot)
AD_FORMS = "admin-registry-forms"
AD_FORM_VERSION = "admin-registry-version"  # bumped after each registry change: the forms' choices refresh


def registry_form(kind: str, part: str) -> str:
    """The id of one part (a field, "pick", "save", "result") of the registry form for `kind` (site, metric, pilot)."""
    return f"admin-form-{kind}-{part}"
