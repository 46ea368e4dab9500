import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TokenFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TOKEN_FORMAT_UNSPECIFIED: _ClassVar[TokenFormat]
    TOKEN_FORMAT_BASE62: _ClassVar[TokenFormat]
    TOKEN_FORMAT_HEX: _ClassVar[TokenFormat]
    TOKEN_FORMAT_BASE64URL: _ClassVar[TokenFormat]
    TOKEN_FORMAT_BASE32_CROCKFORD: _ClassVar[TokenFormat]
    TOKEN_FORMAT_UUID: _ClassVar[TokenFormat]
TOKEN_FORMAT_UNSPECIFIED: TokenFormat
TOKEN_FORMAT_BASE62: TokenFormat
TOKEN_FORMAT_HEX: TokenFormat
TOKEN_FORMAT_BASE64URL: TokenFormat
TOKEN_FORMAT_BASE32_CROCKFORD: TokenFormat
TOKEN_FORMAT_UUID: TokenFormat

class GeneratePasswordRequest(_message.Message):
    __slots__ = ("length", "include_numbers", "include_special_chars", "include_lowercase", "include_uppercase", "min_lowercase", "min_uppercase", "min_digits", "min_specials", "exclude_ambiguous", "exclude_chars", "special_chars", "count", "store", "policy")
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_NUMBERS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SPECIAL_CHARS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_LOWERCASE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_UPPERCASE_FIELD_NUMBER: _ClassVar[int]
    MIN_LOWERCASE_FIELD_NUMBER: _ClassVar[int]
    MIN_UPPERCASE_FIELD_NUMBER: _ClassVar[int]
    MIN_DIGITS_FIELD_NUMBER: _ClassVar[int]
    MIN_SPECIALS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_AMBIGUOUS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_CHARS_FIELD_NUMBER: _ClassVar[int]
    SPECIAL_CHARS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    length: int
    include_numbers: bool
    include_special_chars: bool
    include_lowercase: bool
    include_uppercase: bool
    min_lowercase: int
    min_uppercase: int
    min_digits: int
    min_specials: int
    exclude_ambiguous: bool
    exclude_chars: str
    special_chars: str
    count: int
    store: bool
    policy: str
    def __init__(self, length: _Optional[int] = ..., include_numbers: _Optional[bool] = ..., include_special_chars: _Optional[bool] = ..., include_lowercase: _Optional[bool] = ..., include_uppercase: _Optional[bool] = ..., min_lowercase: _Optional[int] = ..., min_uppercase: _Optional[int] = ..., min_digits: _Optional[int] = ..., min_specials: _Optional[int] = ..., exclude_ambiguous: _Optional[bool] = ..., exclude_chars: _Optional[str] = ..., special_chars: _Optional[str] = ..., count: _Optional[int] = ..., store: _Optional[bool] = ..., policy: _Optional[str] = ...) -> None: ...

class GeneratePasswordResponse(_message.Message):
    __slots__ = ("password", "entropy_bits", "created_at", "stored", "passwords")
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_BITS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    PASSWORDS_FIELD_NUMBER: _ClassVar[int]
    password: str
    entropy_bits: float
    created_at: _timestamp_pb2.Timestamp
    stored: bool
    passwords: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, password: _Optional[str] = ..., entropy_bits: _Optional[float] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stored: _Optional[bool] = ..., passwords: _Optional[_Iterable[str]] = ...) -> None: ...

class ListPasswordsRequest(_message.Message):
    __slots__ = ("page_size",)
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    def __init__(self, page_size: _Optional[int] = ...) -> None: ...

class ListPasswordsResponse(_message.Message):
    __slots__ = ("passwords",)
    PASSWORDS_FIELD_NUMBER: _ClassVar[int]
    passwords: _containers.RepeatedCompositeFieldContainer[PasswordRecord]
    def __init__(self, passwords: _Optional[_Iterable[_Union[PasswordRecord, _Mapping]]] = ...) -> None: ...

class PasswordRecord(_message.Message):
    __slots__ = ("password", "created_at", "entropy_bits", "length", "principal")
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_BITS_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    password: str
    created_at: _timestamp_pb2.Timestamp
    entropy_bits: float
    length: int
    principal: str
    def __init__(self, password: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., entropy_bits: _Optional[float] = ..., length: _Optional[int] = ..., principal: _Optional[str] = ...) -> None: ...

class GeneratePassphraseRequest(_message.Message):
    __slots__ = ("word_count", "separator", "capitalize", "include_number", "store", "policy")
    WORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    SEPARATOR_FIELD_NUMBER: _ClassVar[int]
    CAPITALIZE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    word_count: int
    separator: str
    capitalize: bool
    include_number: bool
    store: bool
    policy: str
    def __init__(self, word_count: _Optional[int] = ..., separator: _Optional[str] = ..., capitalize: _Optional[bool] = ..., include_number: _Optional[bool] = ..., store: _Optional[bool] = ..., policy: _Optional[str] = ...) -> None: ...

class GeneratePassphraseResponse(_message.Message):
    __slots__ = ("passphrase", "entropy_bits", "created_at", "stored")
    PASSPHRASE_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_BITS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    passphrase: str
    entropy_bits: float
    created_at: _timestamp_pb2.Timestamp
    stored: bool
    def __init__(self, passphrase: _Optional[str] = ..., entropy_bits: _Optional[float] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stored: _Optional[bool] = ...) -> None: ...

class CheckPasswordRequest(_message.Message):
    __slots__ = ("password", "user_inputs")
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    USER_INPUTS_FIELD_NUMBER: _ClassVar[int]
    password: str
    user_inputs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, password: _Optional[str] = ..., user_inputs: _Optional[_Iterable[str]] = ...) -> None: ...

class CheckPasswordResponse(_message.Message):
    __slots__ = ("score", "guesses_log10", "crack_time_display", "crack_time_seconds", "warning", "suggestions")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    GUESSES_LOG10_FIELD_NUMBER: _ClassVar[int]
    CRACK_TIME_DISPLAY_FIELD_NUMBER: _ClassVar[int]
    CRACK_TIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WARNING_FIELD_NUMBER: _ClassVar[int]
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    score: int
    guesses_log10: float
    crack_time_display: str
    crack_time_seconds: float
    warning: str
    suggestions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, score: _Optional[int] = ..., guesses_log10: _Optional[float] = ..., crack_time_display: _Optional[str] = ..., crack_time_seconds: _Optional[float] = ..., warning: _Optional[str] = ..., suggestions: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamPasswordsRequest(_message.Message):
    __slots__ = ("options", "count")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    options: GeneratePasswordRequest
    count: int
    def __init__(self, options: _Optional[_Union[GeneratePasswordRequest, _Mapping]] = ..., count: _Optional[int] = ...) -> None: ...

class StreamPasswordsResponse(_message.Message):
    __slots__ = ("password", "entropy_bits")
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_BITS_FIELD_NUMBER: _ClassVar[int]
    password: str
    entropy_bits: float
    def __init__(self, password: _Optional[str] = ..., entropy_bits: _Optional[float] = ...) -> None: ...

class ListPoliciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPoliciesResponse(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[Policy]
    def __init__(self, policies: _Optional[_Iterable[_Union[Policy, _Mapping]]] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("name", "description", "password", "passphrase", "token", "entropy_bits")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    PASSPHRASE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_BITS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    password: GeneratePasswordRequest
    passphrase: GeneratePassphraseRequest
    token: GenerateTokenRequest
    entropy_bits: float
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., password: _Optional[_Union[GeneratePasswordRequest, _Mapping]] = ..., passphrase: _Optional[_Union[GeneratePassphraseRequest, _Mapping]] = ..., token: _Optional[_Union[GenerateTokenRequest, _Mapping]] = ..., entropy_bits: _Optional[float] = ...) -> None: ...

class GenerateTokenRequest(_message.Message):
    __slots__ = ("bits", "prefix", "format", "policy")
    BITS_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    bits: int
    prefix: str
    format: TokenFormat
    policy: str
    def __init__(self, bits: _Optional[int] = ..., prefix: _Optional[str] = ..., format: _Optional[_Union[TokenFormat, str]] = ..., policy: _Optional[str] = ...) -> None: ...

class GenerateTokenResponse(_message.Message):
    __slots__ = ("token", "entropy_bits", "format")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_BITS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    token: str
    entropy_bits: float
    format: TokenFormat
    def __init__(self, token: _Optional[str] = ..., entropy_bits: _Optional[float] = ..., format: _Optional[_Union[TokenFormat, str]] = ...) -> None: ...

class CheckTokenRequest(_message.Message):
    __slots__ = ("token", "format")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    token: str
    format: TokenFormat
    def __init__(self, token: _Optional[str] = ..., format: _Optional[_Union[TokenFormat, str]] = ...) -> None: ...

class CheckTokenResponse(_message.Message):
    __slots__ = ("valid", "format", "prefix", "entropy_bits", "checksummed", "reason")
    VALID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    ENTROPY_BITS_FIELD_NUMBER: _ClassVar[int]
    CHECKSUMMED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    format: TokenFormat
    prefix: str
    entropy_bits: float
    checksummed: bool
    reason: str
    def __init__(self, valid: _Optional[bool] = ..., format: _Optional[_Union[TokenFormat, str]] = ..., prefix: _Optional[str] = ..., entropy_bits: _Optional[float] = ..., checksummed: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...
