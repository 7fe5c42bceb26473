"""Routes under /desk/settings/, /desk/profile/ and /desk/reports/ (names in the dashboard namespace)."""

from django.urls import path
from django.views.generic import RedirectView

from . import profile_views, reports, retention_views, settings_views

settings_patterns = [
    path("", settings_views.index, name="settings"),
    path("inboxes/", settings_views.inbox_list, name="settings-inboxes"),
    path("inboxes/new/", settings_views.inbox_create, name="settings-inbox-create"),
    path("inboxes/<str:public_id>/", settings_views.inbox_edit, name="settings-inbox-edit"),
    path("inboxes/<str:public_id>/mailbox/", settings_views.inbox_mailbox, name="settings-inbox-mailbox"),
    path(
        "inboxes/<str:public_id>/verify-address/",
        settings_views.inbox_send_verification,
        name="settings-inbox-send-verification",
    ),
    path("members/", settings_views.member_list, name="settings-members"),
    path("members/policy/", settings_views.member_policy, name="settings-member-policy"),
    path(
        "members/invitations/<str:public_id>/resend/",
        settings_views.invitation_resend,
        name="settings-invitation-resend",
    ),
    path(
        "members/invitations/<str:public_id>/withdraw/",
        settings_views.invitation_withdraw,
        name="settings-invitation-withdraw",
    ),
    path("members/<int:pk>/", settings_views.member_update, name="settings-member-update"),
    path("members/<int:pk>/remove/", settings_views.member_remove, name="settings-member-remove"),
    path(
        "members/<int:pk>/resend-invitation/",
        settings_views.member_resend_invitation,
        name="settings-member-resend-invitation",
    ),
    path("api-keys/", settings_views.api_key_list, name="settings-api-keys"),
    path("api-keys/<str:prefix>/created/", settings_views.api_key_created, name="settings-api-key-created"),
    path("api-keys/<str:prefix>/revoke/", settings_views.api_key_revoke, name="settings-api-key-revoke"),
    path("security/", settings_views.security, name="settings-security"),
    path("security/rotate/", settings_views.jwt_secret_rotate, name="settings-jwt-rotate"),
    path("security/public-key/", settings_views.jwt_public_key, name="settings-jwt-public-key"),
    # Saved replies became macros (Settings → Macros): the old address leads there.
    path(
        "saved-replies/",
        RedirectView.as_view(pattern_name="automation-dashboard:macros", permanent=True),
        name="settings-saved-replies",
    ),
    path("retention/", retention_views.retention, name="settings-retention"),
    path("activity/", settings_views.activity, name="settings-activity"),
]

profile_patterns = [
    path("", profile_views.profile, name="profile"),
    path("notifications/", profile_views.notification_preferences, name="profile-notifications"),
    path("availability/", profile_views.availability, name="profile-availability"),
    path("tokens/", profile_views.token_create, name="profile-token-create"),
    path("tokens/<int:pk>/created/", profile_views.token_created, name="profile-token-created"),
    path("tokens/<int:pk>/revoke/", profile_views.token_revoke, name="profile-token-revoke"),
]

reports_patterns = [
    path("", reports.reports, name="reports"),
    path("export.csv", reports.reports_csv, name="reports-csv"),
]
