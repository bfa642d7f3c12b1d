"""The Requesty gateway's handlers by ``operationId``: the operations with semantic answers."""

from __future__ import annotations

from mockserver.handlers import Handler, Handlers, admin_json, audio, images, inference, management, messages, responses

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
}
