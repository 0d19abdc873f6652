from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import security_views, views

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", security_views.LoginView.as_view(), name="login"),
    path("accounts/login/verify/", security_views.login_verify, name="login_verify"),
    path("accounts/logout/", security_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", security_views.two_factor_page, name="two_factor"),
    path(
        "accounts/two-factor/confirm/",
        security_views.two_factor_confirm,
        name="two_factor_confirm",
    ),
    path(
        "accounts/two-factor/disable/",
        security_views.two_factor_disable,
        name="two_factor_disable",
    ),
    path(
        "accounts/two-factor/recovery-codes/",
        security_views.recovery_codes_regenerate,
        name="recovery_codes_regenerate",
    ),
    path("accounts/sessions/", security_views.session_list, name="sessions"),
    path(
        "accounts/sessions/<int:session_id>/revoke/",
        security_views.session_revoke,
        name="session_revoke",
    ),
    path(
        "accounts/sessions/revoke-others/",
        security_views.session_revoke_others,
        name="session_revoke_others",
    ),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            success_url=reverse_lazy("accounts:password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            subject_template_name="accounts/email/reset_subject.txt",
            email_template_name="accounts/email/reset_body.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("accounts/notifications/", views.notification_settings, name="notification_settings"),
    path("accounts/tokens/", views.token_list, name="token_list"),
    path("accounts/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:user_id>/", views.staff_edit, name="staff_edit"),
    path(
        "staff/<int:user_id>/deactivate/",
        views.staff_set_active,
        {"is_active": False},
        name="staff_deactivate",
    ),
    path(
        "staff/<int:user_id>/reactivate/",
        views.staff_set_active,
        {"is_active": True},
        name="staff_reactivate",
    ),
    path("staff/<int:user_id>/unlock/", views.staff_unlock, name="staff_unlock"),
    path(
        "staff/<int:user_id>/reset-two-factor/",
        views.staff_reset_two_factor,
        name="staff_reset_two_factor",
    ),
    path(
        "staff/<int:user_id>/reset-password/",
        views.staff_reset_password,
        name="staff_reset_password",
    ),
]
