#!/usr/bin/python3
"""Writes idiotrace-freeipa.ldif: a FreeIPA (389-ds) content sync session laid out exactly as
idiosync's `idiotrace` writes traces, produced with python-ldap's own LDIFWriter (which is what
idiotrace uses), so that idsync's reader is tested against python-ldap's output, not its own.

The session: a refreshAndPersist search without cookie; the refresh sends an internal group,
a user and a group (389-ds: no cookie on refresh entries) and ends with a refreshDelete
syncInfo; the persist stage adds bob, adds him to staff, adds a disabled carol, renames
alice's display name and deletes carol, each with its cookie. Values are invented.

Run: /usr/bin/python3 make-idiotrace-sample.py > idiotrace-freeipa.ldif
"""

import base64
import sys

import ldif

BASE = 'dc=example,dc=org'
USERS = 'cn=users,cn=accounts,' + BASE
GROUPS = 'cn=groups,cn=accounts,' + BASE
COOKIE = ('ipa.example.org:389#cn=directory manager:cn=accounts,' + BASE +
          ':(|(objectClass=person)(objectClass=ipaUserGroup))#%d')
STATE_OID = '1.3.6.1.4.1.4203.1.9.1.2'
INFO_OID = '1.3.6.1.4.1.4203.1.9.1.4'
ADD, MODIFY, DELETE = 1, 2, 3


def tlv(tag, value):
    """A BER element with a definite length."""
    length = len(value)
    if length < 0x80:
        head = bytes([length])
    else:
        octets = length.to_bytes((length.bit_length() + 7) // 8, 'big')
        head = bytes([0x80 | len(octets)]) + octets
    return bytes([tag]) + head + value


def unique_id(text):
    """389-ds nsUniqueId text (8-8-8-8 hex) → the 16 octets of the syncUUID."""
    return bytes.fromhex(text.replace('-', ''))


def state(kind, nsuniqueid, cookie=None):
    """syncStateValue ::= SEQUENCE { state ENUMERATED, entryUUID, cookie OPTIONAL }."""
    value = tlv(0x0a, bytes([kind])) + tlv(0x04, unique_id(nsuniqueid))
    if cookie is not None:
        value += tlv(0x04, cookie.encode())
    return tlv(0x30, value)


def control(oid, value):
    """The idiotrace text of a control: oid, criticality, base64 value."""
    return ('%s false %s' % (oid, base64.b64encode(value).decode())).encode()


def message(out, result, records):
    """One idiotrace message: header comments, then its LDIF records."""
    out.write('# result: %d\n' % result)
    out.write('#\n')
    writer = ldif.LDIFWriter(out)
    for dn, record in records:
        writer.unparse(dn, record)


def entry(out, dn, kind, nsuniqueid, attrs, cookie=None):
    record = {name: [v.encode() for v in values] for name, values in attrs.items()}
    record['control'] = [control(STATE_OID, state(kind, nsuniqueid, cookie))]
    if kind != DELETE:
        record['nsUniqueId'] = [nsuniqueid.encode()]
    message(out, 100, [(dn, record)])


def person(uid, first, last, number, extra=None):
    attrs = {
        'objectClass': ['top', 'person', 'organizationalperson', 'inetorgperson',
                        'inetuser', 'posixaccount', 'krbprincipalaux', 'ipaobject'],
        'uid': [uid], 'givenName': [first], 'sn': [last],
        'cn': ['%s %s' % (first, last)], 'displayName': ['%s %s' % (first, last)],
        'initials': [first[0] + last[0]], 'mail': ['%s@example.org' % uid],
        'uidNumber': [str(number)], 'gidNumber': [str(number)],
        'homeDirectory': ['/home/' + uid], 'loginShell': ['/bin/sh'],
        'krbPrincipalName': ['%s@EXAMPLE.ORG' % uid],
    }
    attrs.update(extra or {})
    return attrs


def group(cn, description, members, number=None):
    attrs = {
        'objectClass': ['top', 'groupofnames', 'nestedgroup', 'ipausergroup', 'ipaobject'],
        'cn': [cn], 'description': [description],
        'member': ['uid=%s,%s' % (m, USERS) for m in members],
    }
    if number is not None:
        attrs['objectClass'].append('posixgroup')
        attrs['gidNumber'] = [str(number)]
    return attrs


ALICE = '6a0b1c2d-11ee11ef-a1b2c3d4-e5f60718'
BOB = '6a0b1c2e-11ee11ef-a1b2c3d4-e5f60718'
CAROL = '6a0b1c2f-11ee11ef-a1b2c3d4-e5f60718'
ADMINS = '2eefb4a9-11ee11ef-a1b2c3d4-e5f60718'
STAFF = '2eefb4b0-11ee11ef-a1b2c3d4-e5f60718'

out = sys.stdout
# Refresh: no cookie on the entries.
entry(out, 'cn=admins,' + GROUPS, ADD, ADMINS,
      group('admins', 'Account administrators group', ['admin'], 1850000000))
entry(out, 'uid=alice,' + USERS, ADD, ALICE,
      person('alice', 'Alice', 'Archer', 1850000001,
             {'memberOf': ['cn=staff,' + GROUPS], 'nsAccountLock': ['FALSE']}))
entry(out, 'cn=staff,' + GROUPS, ADD, STAFF,
      group('staff', 'Staff', ['alice'], 1850000100))
# End of the refresh: refreshDelete (refreshDone TRUE by default) with the cookie.
message(out, 121, [('', {'control': [control(INFO_OID, tlv(0xa1, tlv(0x04, (COOKIE % 1).encode())))]})])
# Persist: each change with its cookie.
entry(out, 'uid=bob,' + USERS, ADD, BOB,
      person('bob', 'Bob', 'Baker', 1850000002), COOKIE % 2)
entry(out, 'cn=staff,' + GROUPS, MODIFY, STAFF,
      group('staff', 'Staff', ['alice', 'bob'], 1850000100), COOKIE % 3)
entry(out, 'uid=carol,' + USERS, ADD, CAROL,
      person('carol', 'Carol', 'Cooper', 1850000003, {'nsAccountLock': ['TRUE']}), COOKIE % 4)
entry(out, 'uid=alice,' + USERS, MODIFY, ALICE,
      person('alice', 'Alice', 'Archer', 1850000001,
             {'displayName': ['Alice Liddell'], 'nsAccountLock': ['FALSE']}), COOKIE % 5)
entry(out, 'uid=carol,' + USERS, DELETE, CAROL, {}, COOKIE % 6)
