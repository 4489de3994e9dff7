"""OpenAPI: every operation documents the error shape for the 4xx answers it can give."""

from drf_spectacular.openapi import AutoSchema

from .errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `fields` names each field that is wrong.",
    "401": "No key, or a revoked or unknown one.",
    "403": "The key is read-only, or the user lacks the permission.",
    "404": "Not found.",
}


class DeskAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in ERROR_DESCRIPTIONS.items():
            if code == "404" and self._is_list_view() and self.method == "GET" and "{" not in self.path:
                continue
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        return responses
