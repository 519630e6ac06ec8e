import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LeafKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEAF_KIND_UNSPECIFIED: _ClassVar[LeafKind]
    LEAF_KIND_DISCLOSURE: _ClassVar[LeafKind]
    LEAF_KIND_CONSENT_EVENT: _ClassVar[LeafKind]
    LEAF_KIND_OBJECTION_STEP: _ClassVar[LeafKind]
    LEAF_KIND_STATUS_CHANGE: _ClassVar[LeafKind]
    LEAF_KIND_RECORD_CHANGE: _ClassVar[LeafKind]
    LEAF_KIND_KEY_ROTATION: _ClassVar[LeafKind]
LEAF_KIND_UNSPECIFIED: LeafKind
LEAF_KIND_DISCLOSURE: LeafKind
LEAF_KIND_CONSENT_EVENT: LeafKind
LEAF_KIND_OBJECTION_STEP: LeafKind
LEAF_KIND_STATUS_CHANGE: LeafKind
LEAF_KIND_RECORD_CHANGE: LeafKind
LEAF_KIND_KEY_ROTATION: LeafKind

class SignedTreeHead(_message.Message):
    __slots__ = ("origin", "tree_size", "root_hash", "timestamp", "key_id", "signature")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    ROOT_HASH_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    origin: str
    tree_size: int
    root_hash: bytes
    timestamp: _timestamp_pb2.Timestamp
    key_id: str
    signature: bytes
    def __init__(self, origin: _Optional[str] = ..., tree_size: _Optional[int] = ..., root_hash: _Optional[bytes] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., key_id: _Optional[str] = ..., signature: _Optional[bytes] = ...) -> None: ...

class Leaf(_message.Message):
    __slots__ = ("index", "kind", "create_time", "payload_json", "entry_json", "leaf_hash")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    ENTRY_JSON_FIELD_NUMBER: _ClassVar[int]
    LEAF_HASH_FIELD_NUMBER: _ClassVar[int]
    index: int
    kind: LeafKind
    create_time: _timestamp_pb2.Timestamp
    payload_json: str
    entry_json: str
    leaf_hash: bytes
    def __init__(self, index: _Optional[int] = ..., kind: _Optional[_Union[LeafKind, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., payload_json: _Optional[str] = ..., entry_json: _Optional[str] = ..., leaf_hash: _Optional[bytes] = ...) -> None: ...

class PublicKey(_message.Message):
    __slots__ = ("key_id", "public_key", "add_time", "retire_time")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    ADD_TIME_FIELD_NUMBER: _ClassVar[int]
    RETIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    public_key: bytes
    add_time: _timestamp_pb2.Timestamp
    retire_time: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., public_key: _Optional[bytes] = ..., add_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetSignedTreeHeadRequest(_message.Message):
    __slots__ = ("fresh",)
    FRESH_FIELD_NUMBER: _ClassVar[int]
    fresh: bool
    def __init__(self, fresh: _Optional[bool] = ...) -> None: ...

class GetSignedTreeHeadResponse(_message.Message):
    __slots__ = ("tree_head",)
    TREE_HEAD_FIELD_NUMBER: _ClassVar[int]
    tree_head: SignedTreeHead
    def __init__(self, tree_head: _Optional[_Union[SignedTreeHead, _Mapping]] = ...) -> None: ...

class GetInclusionProofRequest(_message.Message):
    __slots__ = ("leaf_index", "tree_size")
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    tree_size: int
    def __init__(self, leaf_index: _Optional[int] = ..., tree_size: _Optional[int] = ...) -> None: ...

class GetInclusionProofResponse(_message.Message):
    __slots__ = ("leaf", "tree_size", "proof", "tree_head", "receipt_json")
    LEAF_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    TREE_HEAD_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_JSON_FIELD_NUMBER: _ClassVar[int]
    leaf: Leaf
    tree_size: int
    proof: _containers.RepeatedScalarFieldContainer[bytes]
    tree_head: SignedTreeHead
    receipt_json: str
    def __init__(self, leaf: _Optional[_Union[Leaf, _Mapping]] = ..., tree_size: _Optional[int] = ..., proof: _Optional[_Iterable[bytes]] = ..., tree_head: _Optional[_Union[SignedTreeHead, _Mapping]] = ..., receipt_json: _Optional[str] = ...) -> None: ...

class GetConsistencyProofRequest(_message.Message):
    __slots__ = ("from_tree_size", "to_tree_size")
    FROM_TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TO_TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    from_tree_size: int
    to_tree_size: int
    def __init__(self, from_tree_size: _Optional[int] = ..., to_tree_size: _Optional[int] = ...) -> None: ...

class GetConsistencyProofResponse(_message.Message):
    __slots__ = ("from_tree_size", "to_tree_size", "proof", "proof_json")
    FROM_TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    TO_TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    PROOF_JSON_FIELD_NUMBER: _ClassVar[int]
    from_tree_size: int
    to_tree_size: int
    proof: _containers.RepeatedScalarFieldContainer[bytes]
    proof_json: str
    def __init__(self, from_tree_size: _Optional[int] = ..., to_tree_size: _Optional[int] = ..., proof: _Optional[_Iterable[bytes]] = ..., proof_json: _Optional[str] = ...) -> None: ...

class ListLeavesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "kind", "start_time", "end_time", "payload_equals")
    class PayloadEqualsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_EQUALS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    kind: LeafKind
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    payload_equals: _containers.ScalarMap[str, str]
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., kind: _Optional[_Union[LeafKind, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., payload_equals: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListLeavesResponse(_message.Message):
    __slots__ = ("leaves", "next_page_token")
    LEAVES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    leaves: _containers.RepeatedCompositeFieldContainer[Leaf]
    next_page_token: str
    def __init__(self, leaves: _Optional[_Iterable[_Union[Leaf, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPublicKeysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPublicKeysResponse(_message.Message):
    __slots__ = ("public_keys",)
    PUBLIC_KEYS_FIELD_NUMBER: _ClassVar[int]
    public_keys: _containers.RepeatedCompositeFieldContainer[PublicKey]
    def __init__(self, public_keys: _Optional[_Iterable[_Union[PublicKey, _Mapping]]] = ...) -> None: ...
