from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination

from registry.inputs import INT_MAX, INT_MIN


class StandardPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class NewestFirstCursorPagination(CursorPagination):
    """Stable paging through append-only logs, newest first (by an integer column: id or seq).

    A cursor that is not one this service made (bad base64, a position that is not an integer in range) is a 400
    naming `cursor`, never a query built from it.
    """

    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": ["is not a cursor this service made"]}) from None
        if cursor is not None and cursor.position is not None:
            try:
                position = int(cursor.position)
            except (TypeError, ValueError):
                raise ValidationError({"cursor": ["is not a cursor this service made"]}) from None
            if not INT_MIN <= position <= INT_MAX or not str(cursor.position).lstrip("-").isdigit():
                raise ValidationError({"cursor": ["is not a cursor this service made"]})
        return cursor
