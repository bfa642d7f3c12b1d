"""The Requesty gateway's handlers by ``operationId``: the operations with semantic answers."""

from __future__ import annotations

from mockserver.handlers import (
                                 Handler,
                                 Handlers,
                                 admin_json,
                                 audio,
                                 governance,
                                 images,
                                 inference,
                                 management,
                                 messages,
                                 responses,
)

BUILTIN: Handlers = {
    # inference
    "listModels": Handler(inference.list_models),
    "createChatCompletion": Handler(inference.create_chat_completion, routes_models=True),
    "createEmbedding": Handler(inference.create_embedding),
    "createResponse": Handler(responses.create_response, routes_models=True),
    "getResponse": Handler(responses.get_response),
    "createAnthropicMessage": Handler(messages.create_message, routes_models=True),
    "countAnthropicMessageTokens": Handler(messages.count_message_tokens),
    "createSpeech": Handler(audio.create_speech),
    "createTranscription": Handler(audio.create_transcription),
    "createImage": Handler(images.create_image),
    "createImageEdit": Handler(images.create_image_edit),
    # keys and usage: the organization's admin key only
    "createApiKey": admin_json(management.create_api_key),
    "listApiKeys": admin_json(management.list_api_keys),
    "getApiKey": admin_json(management.get_api_key),
    "deleteApiKey": admin_json(management.delete_api_key),
    "updateApiKeyLimit": admin_json(management.update_api_key_limit),
    "getApiKeyUsage": admin_json(management.get_api_key_usage),
    "getOrganizationUsage": admin_json(management.get_organization_usage),
    # governance (docs/governance.md): the admin key only
    "listAccessLists": admin_json(governance.list_access_lists),
    "createAccessList": admin_json(governance.create_access_list),
    "getAccessList": admin_json(governance.get_access_list),
    "deleteAccessList": admin_json(governance.delete_access_list),
    "setApiKeyAccessList": admin_json(governance.set_api_key_access_list),
    "getApiKeyAlerts": admin_json(governance.get_api_key_alerts),
    "setApiKeyAlerts": admin_json(governance.set_api_key_alerts),
    "setApiKeyGuardrails": admin_json(governance.set_api_key_guardrails),
}
