from django.db import models


class Row(models.Model):
    """One listed record: a title, a category, an amount and when it was published."""

    title = models.CharField(max_length=200)
    category = models.CharField(max_length=50)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    published_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.title
