from django.urls import path

from kejiyun.popsci.targeting import views

urlpatterns = [
    path("me/", views.my_preferences, name="me"),
    path("feed/", views.feed, name="feed"),
    path("me/consent/", views.consent_grant, name="consent_grant"),
    path("me/consent/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_new, name="campaign_create"),
    path("campaigns/audience-size/", views.campaign_audience_size, name="campaign_audience_size"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/send/", views.campaign_send_now, name="campaign_send"),
]
