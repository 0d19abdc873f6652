from django.apps import AppConfig


class PrintshopConfig(AppConfig):
    name = "printshop"
    verbose_name = "Print shop"
