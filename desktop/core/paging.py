"""Page-number pagination with Label Studio's edges: page past the end is a 404."""

from desktop.core.errors import NotFound, ValidationError


def page_params(page, page_size, default_size, max_size=None):
    try:
        page = int(page) if page not in (None, "") else 1
    except (TypeError, ValueError):
        raise NotFound(detail="Invalid page.") from None
    try:  # DRF: a page_size that isn't a number is the default size
        page_size = int(page_size) if page_size not in (None, "") else default_size
    except (TypeError, ValueError):
        page_size = default_size
    if page < 1:
        raise NotFound(detail="Invalid page.")
    if page_size < 1:
        page_size = default_size
    if max_size:
        page_size = min(page_size, max_size)
    return page, page_size


def page_slice(total, page, page_size, detail="Invalid page."):
    """(start, stop) of a page; page 1 of nothing is an empty page, anything past is a 404."""
    start = (page - 1) * page_size
    if page > 1 and start >= total:
        raise NotFound(detail=detail)
    return start, min(start + page_size, total)


def parse_bool(name, value, default=None):
    """Django REST framework's boolean query parsing (case-insensitive)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", "not"):
        return False
    raise ValidationError({name: f'Incorrect bool value "{value}". '
                                 "It should be one of [1, 0, true, false, yes, no]"})
