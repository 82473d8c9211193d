"""A bound on uploaded files, which DATA_UPLOAD_MAX_MEMORY_SIZE does not count."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler


class BoundedUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: refuses a request whose files grow past
    PORTAL_MAX_UPLOAD_SIZE (the 413 page), and hands every chunk on otherwise."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.PORTAL_MAX_UPLOAD_SIZE:
            raise RequestDataTooBig("Uploaded files exceed PORTAL_MAX_UPLOAD_SIZE.")
        return raw_data

    def file_complete(self, file_size):
        return None
