"""An ipernity sandbox with a save file keeps its account's changes and its tokens across restarts."""

from __future__ import annotations

from migrator_ipernity.sandbox import IpernitySandbox


def test_changes_and_tokens_outlive_the_process(tmp_path):
    save = tmp_path / "ipernity.sandbox"
    sb = IpernitySandbox(seed=0, save_file=save)
    first, second = (d.doc_id for d in sb.account.newest_first()[:2])
    token = sb.grant_token(perm_doc="read")
    sb.edit_doc(first, title="Edited")
    sb.delete_doc(second)
    added = sb.add_doc(title="New").doc_id
    # no stop(): each change was saved as it was made, as a killed process leaves it
    again = IpernitySandbox(seed=0, save_file=save)
    assert again.account.doc(first).title == "Edited"
    assert second not in {d.doc_id for d in again.account.docs}
    assert again.account.doc(added).title == "New"
    assert again.auth_store.lookup(token, again.api_key) is not None
    assert again.add_doc().doc_id not in {first, second, added}


def test_a_frob_approved_on_the_page_is_saved_before_the_answer(tmp_path, make_client):
    save = tmp_path / "ipernity.sandbox"
    with IpernitySandbox(seed=0, save_file=save) as sb:
        client = make_client(sb, None)
        frob = client.ok("auth.getFrob")["auth"]["frob"]
        sb.approve(frob)
        token = client.ok("auth.getToken", frob=frob)["auth"]["token"]
        restarted = IpernitySandbox(seed=0, save_file=save)  # read while the first still runs
    assert restarted.auth_store.lookup(token, restarted.api_key) is not None
    assert restarted.auth_store.frobs[frob].used
