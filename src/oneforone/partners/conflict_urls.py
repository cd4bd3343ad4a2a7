from django.urls import path

from oneforone.partners import views

urlpatterns = [
    path("", views.conflict_list, name="operator-conflicts"),
    path("<int:pk>/", views.conflict_detail, name="operator-conflict"),
]
